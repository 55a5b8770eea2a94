"""A small, typed condition language over derived facts.

Grammar (precedence low to high)::

    expr   := term ('or' term)*
    term   := factor ('and' factor)*
    factor := 'not' factor | test
    test   := value (('=='|'!='|'<'|'<='|'>'|'>=') value
                    | ['not'] 'in' value
                    | 'is' ['not'] 'null')?
    value  := NUMBER | 'STRING' | true | false | FACT | '[' literal (',' literal)* ']' | '(' expr ')'

Examples: ``hr_positive and tfi_months <= 6``,
``'pertuzumab' in progressed_on``, ``ild_history in ['grade2_or_higher', 'active']``.

Conditions are type-checked against :data:`mbcpath.facts.catalog.FACT_TYPES` when
the KB loads (an unknown fact or enum value is a KB error), evaluated with
three-valued logic (``None`` = unknown: a comparison with an unknown fact is
unknown; ``false and unknown`` is false; ``true or unknown`` is true), and
compiled to SQL for cohort runs, where SQL's NULL logic is the same Kleene logic.

References
----------
Kleene SC. Introduction to Metamathematics. 1952 (strong three-valued logic).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mbcpath.facts.catalog import FACT_TYPES, FactType

Facts = Mapping[str, Any]
Evaluator = Callable[[Facts], Any]

_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>'[^']*')|(?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)
_KEYWORDS = {"and", "or", "not", "in", "is", "null", "true", "false"}


class ConditionError(ValueError):
    """A condition that does not parse or does not type-check."""


@dataclass(frozen=True)
class Node:
    op: str
    args: tuple[Any, ...] = ()


@dataclass
class Condition:
    """A parsed, type-checked condition, ready to evaluate, explain or compile."""

    source: str
    tree: Node
    facts: tuple[str, ...]
    _eval: Evaluator = field(repr=False, compare=False)

    def evaluate(self, facts: Facts) -> bool | None:
        """True, False or None (unknown)."""
        out = self._eval(facts)
        return None if out is None else bool(out)

    def explain(self, facts: Facts) -> str:
        """The facts this condition reads, with this patient's values."""
        return "; ".join(f"{name} = {_show(facts.get(name))}" for name in self.facts)

    def unknown_facts(self, facts: Facts) -> list[str]:
        """Facts referenced here whose value is unknown for this patient."""
        return [f for f in self.facts if facts.get(f) is None]

    def to_sql(self, column: Callable[[str], str] = lambda name: name) -> str:
        """Compile to a SQL boolean expression (DuckDB / Spark SQL)."""
        return _sql(self.tree, column)


def _show(v: Any) -> str:
    if v is None:
        return "unknown"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (set, frozenset, list, tuple)):
        return "{" + ", ".join(sorted(map(str, v))) + "}" if v else "{}"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# ----------------------------------------------------------------------------- parsing
def _tokenize(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ConditionError(f"cannot read {text[pos:pos + 12]!r} at position {pos} in {text!r}")
        kind = m.lastgroup or ""
        val = m.group(kind)
        if kind == "word" and val in _KEYWORDS:
            kind = "kw"
        out.append((kind, val))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, val: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (val is not None and tok[1] != val):
            raise ConditionError(f"expected {val or 'a value'} at token {self.i} in {self.text!r}")
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.expr()
        if self.peek() is not None:
            raise ConditionError(f"unexpected {self.peek()[1]!r} in {self.text!r}")  # type: ignore[index]
        return node

    def expr(self) -> Node:
        args = [self.term()]
        while self.peek() == ("kw", "or"):
            self.take()
            args.append(self.term())
        return args[0] if len(args) == 1 else Node("or", tuple(args))

    def term(self) -> Node:
        args = [self.factor()]
        while self.peek() == ("kw", "and"):
            self.take()
            args.append(self.factor())
        return args[0] if len(args) == 1 else Node("and", tuple(args))

    def factor(self) -> Node:
        if self.peek() == ("kw", "not"):
            self.take()
            return Node("not", (self.factor(),))
        return self.test()

    def test(self) -> Node:
        left = self.value()
        tok = self.peek()
        if tok is None:
            return left
        if tok[0] == "op" and tok[1] in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            return Node(tok[1], (left, self.value()))
        if tok == ("kw", "in"):
            self.take()
            return Node("in", (left, self.value()))
        if tok == ("kw", "not") and self.i + 1 < len(self.toks) and self.toks[self.i + 1] == ("kw", "in"):
            self.take()
            self.take()
            return Node("not", (Node("in", (left, self.value())),))
        if tok == ("kw", "is"):
            self.take()
            negate = False
            if self.peek() == ("kw", "not"):
                self.take()
                negate = True
            self.take("null")
            node = Node("isnull", (left,))
            return Node("notnull", (left,)) if negate else node
        return left

    def value(self) -> Node:
        kind, val = self.take()
        if kind == "num":
            return Node("lit", (float(val),))
        if kind == "str":
            return Node("lit", (val[1:-1],))
        if kind == "kw" and val in ("true", "false"):
            return Node("lit", (val == "true",))
        if kind == "word":
            return Node("fact", (val,))
        if (kind, val) == ("op", "("):
            node = self.expr()
            self.take(")")
            return node
        if (kind, val) == ("op", "["):
            items = [self.value()]
            while self.peek() == ("op", ","):
                self.take()
                items.append(self.value())
            self.take("]")
            if any(n.op != "lit" for n in items):
                raise ConditionError(f"a list may hold literals only, in {self.text!r}")
            return Node("list", tuple(n.args[0] for n in items))
        raise ConditionError(f"unexpected {val!r} in {self.text!r}")


# ----------------------------------------------------------------------------- typing
def _type_of(node: Node, text: str) -> str:
    """Return 'bool', 'number', 'enum:<fact>', 'set:<fact>', 'str', 'list' and check."""
    return _TYPE_RULES.get(node.op, _type_of_comparison)(node, text)


def _type_of_literal(node: Node, text: str) -> str:
    v = node.args[0]
    return "bool" if isinstance(v, bool) else "number" if isinstance(v, float) else "str"


def _type_of_list(node: Node, text: str) -> str:
    return "list"


def _type_of_fact(node: Node, text: str) -> str:
    """A fact's type from the catalogue ('enum:<fact>' / 'set:<fact>' keep the fact for its values)."""
    name = node.args[0]
    ft = FACT_TYPES.get(name)
    if ft is None:
        raise ConditionError(f"unknown fact {name!r} in {text!r}")
    return {"bool": "bool", "number": "number"}.get(ft.kind, f"{ft.kind}:{name}")


def _type_of_connective(node: Node, text: str) -> str:
    """'and', 'or', 'not' take true/false operands."""
    for a in node.args:
        if _type_of(a, text) != "bool":
            raise ConditionError(f"'{node.op}' needs true/false operands in {text!r}")
    return "bool"


def _type_of_null_test(node: Node, text: str) -> str:
    """'is null' / 'is not null' apply to a fact."""
    if node.args[0].op != "fact":
        raise ConditionError(f"'is null' applies to a fact, in {text!r}")
    _type_of(node.args[0], text)
    return "bool"


def _type_of_comparison(node: Node, text: str) -> str:
    """A binary test: both sides are typed (left first), then checked by the operator's rule."""
    left, right = node.args
    lt, rt = _type_of(left, text), _type_of(right, text)
    check = _COMPARISON_RULES.get(node.op)
    if check is None:
        raise ConditionError(f"unknown operator {node.op!r} in {text!r}")
    check(node.op, left, right, lt, rt, text)
    return "bool"


def _check_ordering(op: str, left: Node, right: Node, lt: str, rt: str, text: str) -> None:
    if lt != "number" or rt != "number":
        raise ConditionError(f"'{op}' compares numbers, in {text!r}")


def _check_equality(op: str, left: Node, right: Node, lt: str, rt: str, text: str) -> None:
    """Same types, or an enum fact against one of its values."""
    if lt.startswith("enum:") and rt == "str":
        _check_value(lt, right.args[0], text)
    elif rt.startswith("enum:") and lt == "str":
        _check_value(rt, left.args[0], text)
    elif lt != rt:
        raise ConditionError(f"'{op}' compares {lt} with {rt} in {text!r}")


def _check_membership(op: str, left: Node, right: Node, lt: str, rt: str, text: str) -> None:
    """'literal in set-fact' (a value of the set) or 'fact in [list]' (values of an enum fact, or numbers)."""
    if rt.startswith("set:") and lt == "str":
        _check_value(rt, left.args[0], text)
    elif rt == "list" and (lt.startswith("enum:") or lt == "number"):
        for v in right.args:
            if lt.startswith("enum:"):
                _check_value(lt, v, text)
    else:
        raise ConditionError(f"'in' needs 'literal in set-fact' or 'fact in [list]', in {text!r}")


def _check_value(typ: str, value: Any, text: str) -> None:
    name = typ.split(":", 1)[1]
    ft: FactType = FACT_TYPES[name]
    if ft.values and value not in ft.values:
        raise ConditionError(f"{value!r} is not a value of {name} ({', '.join(sorted(ft.values))}) in {text!r}")


#: how each kind of node is typed; any other operator is a binary test (:func:`_type_of_comparison`)
_TYPE_RULES: dict[str, Callable[[Node, str], str]] = {
    "lit": _type_of_literal, "list": _type_of_list, "fact": _type_of_fact,
    "and": _type_of_connective, "or": _type_of_connective, "not": _type_of_connective,
    "isnull": _type_of_null_test, "notnull": _type_of_null_test,
}

#: the type rule of each binary operator
_COMPARISON_RULES: dict[str, Callable[[str, Node, Node, str, str, str], None]] = {
    "<": _check_ordering, "<=": _check_ordering, ">": _check_ordering, ">=": _check_ordering,
    "==": _check_equality, "!=": _check_equality, "in": _check_membership,
}


# ----------------------------------------------------------------------------- evaluation
def _compile(node: Node) -> Evaluator:
    return _COMPILERS.get(node.op, _compile_comparison)(node)


def _compile_literal(node: Node) -> Evaluator:
    v = node.args[0]
    return lambda f: v


def _compile_list(node: Node) -> Evaluator:
    vals = frozenset(node.args)
    return lambda f: vals


def _compile_fact(node: Node) -> Evaluator:
    name = node.args[0]
    return lambda f: f.get(name)


def _compile_not(node: Node) -> Evaluator:
    a = _compile(node.args[0])

    def _not(f: Facts) -> Any:
        v = a(f)
        return None if v is None else not v

    return _not


def _compile_and(node: Node) -> Evaluator:
    """Kleene 'and': false if any part is false, else unknown if any part is unknown, else true."""
    parts = [_compile(a) for a in node.args]

    def _and(f: Facts) -> Any:
        unknown = False
        for p in parts:
            v = p(f)
            if v is None:
                unknown = True
            elif not v:
                return False
        return None if unknown else True

    return _and


def _compile_or(node: Node) -> Evaluator:
    """Kleene 'or': true if any part is true, else unknown if any part is unknown, else false."""
    parts = [_compile(a) for a in node.args]

    def _or(f: Facts) -> Any:
        unknown = False
        for p in parts:
            v = p(f)
            if v is None:
                unknown = True
            elif v:
                return True
        return None if unknown else False

    return _or


def _compile_null_test(node: Node) -> Evaluator:
    a = _compile(node.args[0])
    want = node.op == "isnull"
    return lambda f: (a(f) is None) == want


def _compile_comparison(node: Node) -> Evaluator:
    """A binary test: unknown when either side is unknown."""
    fast = _compile_fact_test(node)
    if fast is not None:
        return fast
    left, right = (_compile(a) for a in node.args)
    cmp = _COMPARE[node.op]

    def _cmp(f: Facts) -> Any:
        x, y = left(f), right(f)
        if x is None or y is None:
            return None
        return cmp(x, y)

    return _cmp


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda x, y: x == y, "!=": lambda x, y: x != y, "<": lambda x, y: x < y, "<=": lambda x, y: x <= y,
    ">": lambda x, y: x > y, ">=": lambda x, y: x >= y,
}
#: the general path's operators: the comparisons and membership
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {**_OPS, "in": lambda x, y: x in y}

#: how each kind of node is compiled; any other operator is a binary test (:func:`_compile_comparison`)
_COMPILERS: dict[str, Callable[[Node], Evaluator]] = {
    "lit": _compile_literal, "list": _compile_list, "fact": _compile_fact, "not": _compile_not,
    "and": _compile_and, "or": _compile_or, "isnull": _compile_null_test, "notnull": _compile_null_test,
}


def _compile_fact_test(node: Node) -> Evaluator | None:
    """A direct evaluator for the common shapes ``fact OP literal``, ``'lit' in set_fact`` and
    ``fact in [list]`` (the same three-valued result as the general path, with fewer calls)."""
    left, right = node.args
    if node.op == "in" and left.op == "lit" and right.op == "fact":
        lit, name = left.args[0], right.args[0]
        return lambda f: None if (v := f.get(name)) is None else lit in v
    if node.op == "in" and left.op == "fact" and right.op == "list":
        name, vals = left.args[0], frozenset(right.args)
        return lambda f: None if (v := f.get(name)) is None else v in vals
    if node.op in _OPS and left.op == "fact" and right.op == "lit":
        name, lit, op = left.args[0], right.args[0], _OPS[node.op]
        return lambda f: None if (v := f.get(name)) is None else op(v, lit)
    return None


def _facts_in(node: Node, out: list[str]) -> None:
    if node.op == "fact":
        if node.args[0] not in out:
            out.append(node.args[0])
        return
    for a in node.args:
        if isinstance(a, Node):
            _facts_in(a, out)


def _sql_lit(v: Any) -> str:
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return repr(int(v)) if v.is_integer() else repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def _sql(node: Node, col: Callable[[str], str]) -> str:
    op = node.op
    if op == "lit":
        return _sql_lit(node.args[0])
    if op == "list":
        return "(" + ", ".join(_sql_lit(v) for v in node.args) + ")"
    if op == "fact":
        return col(node.args[0])
    if op == "not":
        return f"(NOT {_sql(node.args[0], col)})"
    if op in ("and", "or"):
        return "(" + f" {op.upper()} ".join(_sql(a, col) for a in node.args) + ")"
    if op == "isnull":
        return f"({_sql(node.args[0], col)} IS NULL)"
    if op == "notnull":
        return f"({_sql(node.args[0], col)} IS NOT NULL)"
    left, right = node.args
    if op == "in":
        if right.op == "fact":  # literal in set-valued fact (a list column)
            return f"list_contains({_sql(right, col)}, {_sql(left, col)})"
        return f"({_sql(left, col)} IN {_sql(right, col)})"
    sql_op = {"==": "=", "!=": "<>"}.get(op, op)
    return f"({_sql(left, col)} {sql_op} {_sql(right, col)})"


_CACHE: dict[str, Condition] = {}


def compile_condition(text: str) -> Condition:
    """Parse and type-check ``text``; raise :class:`ConditionError` if it is not valid."""
    cached = _CACHE.get(text)
    if cached is not None:
        return cached
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("a condition must be a non-empty string")
    tree = _Parser(text).parse()
    if _type_of(tree, text) != "bool":
        raise ConditionError(f"condition {text!r} is not true/false")
    names: list[str] = []
    _facts_in(tree, names)
    cond = Condition(text, tree, tuple(names), _compile(tree))
    _CACHE[text] = cond
    return cond
