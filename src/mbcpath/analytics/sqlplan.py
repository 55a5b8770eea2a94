"""Compile the engine's :class:`~mbcpath.engine.plan.Plan` into one SQL query over a table of derived facts.

The query is a second reader of the same plan as :mod:`mbcpath.engine.evaluate` and
:mod:`mbcpath.engine.ranking`, with the same semantics, generated from the plan (nothing is written per rule):

1. ``d``: per patient, every drug's verdict from its stops (label table, exposure, formulary, restricted
   availability): stopped (with and without the exposure rule) and which label dimensions stopped or warned;
   every regimen gate's condition (three-valued, from :meth:`~mbcpath.rules.conditions.Condition.to_sql`).
2. ``c``: one row per patient and candidate option of the patient's decision point: requirements (not met,
   unknown and excluding, unknown and offered flagged), components stopped or reduced to their remaining
   choices, regimen gates in plan order (exclusions, clinician overrides, composition, added components with
   their own drug stops, warnings, demotions, avoid), adjustments, and the ranking keys of
   :func:`mbcpath.engine.ranking.rank`.
3. The continue-the-current-regimen option (a *dynamic* regimen: its components are the patient's current
   drugs) runs its gates as a chain of steps (``v0`` .. ``vN``), because a gate there holds drugs and the next
   gate sees the regimen without them, as in the engine.
4. Ranking, de-duplication by regimen, the excluded regimens in the engine's order and the safety summary's
   gate ids.

What the plan can hold but this compiler does not express is refused at compile time with
:class:`PlanNotExpressible` naming the feature (never approximated): an added component given as one fixed
drug rather than choices, a dynamic regimen with fixed drug components, and new-only / continuing-only gate
selectors that could match an added component. The shipped KB has none of these.

The SQL is written in DuckDB's dialect; :func:`to_dialect` transpiles it (sqlglot) for Spark, and the few
aggregates whose spelling differs (ordered lists, lists without NULLs) come from :data:`_AGG`.

References
----------
shared/design.md ("one plan both executors read"); shared/domain.md section 5 (safety gates);
kb/labels/README.md (label effects: ``do_not_start`` stops a new drug and warns on a continuing one).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mbcpath.domain.drugs import CHEMOTHERAPY_CLASSES, DRUG_CLASSES, ENDOCRINE_CLASSES, DrugClass
from mbcpath.domain.recommendation import CATEGORY_ORDER, Category
from mbcpath.engine.plan import Candidate, DrugStop, Plan, is_chemo_free
from mbcpath.errors import KnowledgeBaseError
from mbcpath.facts.catalog import FACT_TYPES
from mbcpath.kb.models import Gate, Selector

#: SQL type of each fact kind in the fact table.
SQL_TYPES = {"bool": "BOOLEAN", "number": "DOUBLE", "enum": "VARCHAR", "set": "VARCHAR[]"}
#: Columns of the fact table besides the facts.
BASE_COLUMNS = {"pid": "BIGINT", "patient_id": "VARCHAR", "gate_overrides": "VARCHAR[]"}
_PREF, _ALT = CATEGORY_ORDER[Category.PREFERRED], CATEGORY_ORDER[Category.ALTERNATIVE]


class PlanNotExpressible(KnowledgeBaseError):
    """A feature of the compiled plan that the SQL executor does not express (the message names it)."""


def fact_columns() -> dict[str, str]:
    """Every column of the fact table: name -> DuckDB type."""
    return {**BASE_COLUMNS, **{n: SQL_TYPES[t.kind] for n, t in sorted(FACT_TYPES.items())}}


def col(name: str) -> str:
    return f'"{name}"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def any_of(parts: Iterable[str]) -> str:
    xs = [p for p in parts if p != "FALSE"]
    if "TRUE" in xs:
        return "TRUE"
    return "(" + " OR ".join(xs) + ")" if xs else "FALSE"


def all_of(parts: Iterable[str]) -> str:
    xs = [p for p in parts if p != "TRUE"]
    if "FALSE" in xs:
        return "FALSE"
    return "(" + " AND ".join(xs) + ")" if xs else "TRUE"


def is_true(expr: str) -> str:
    return f"coalesce({expr}, FALSE)"


def is_false(expr: str) -> str:
    return f"coalesce(NOT {expr}, FALSE)"


def has(list_col: str, value: str) -> str:
    return f"coalesce(list_contains({col(list_col)}, {lit(value)}), FALSE)"


# ----------------------------------------------------------------------------- drugs (layer d)
@dataclass
class _Drugs:
    """Column names of each drug's verdicts and the record keys (label dimensions) it can set."""

    index: dict[str, int] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)

    def i(self, drug: str) -> int:
        return self.index[drug]

    def cont(self, drug: str) -> str:
        return f"c{self.i(drug)}"

    def blocked(self, drug: str, exempt: bool) -> str:
        return f"{'be' if exempt else 'b'}{self.i(drug)}"


def _action_is(stop: DrugStop, action: str, cont: str) -> str:
    """Whether the stop's action on this drug is ``action`` (it differs for a drug the patient continues)."""
    new, kept = stop.on_new == action, stop.on_continuing == action
    if new and kept:
        return "TRUE"
    if kept:
        return f"({cont})"
    return f"(NOT {cont})" if new else "FALSE"


def _override_sql(stop: DrugStop) -> str:
    from mbcpath.engine.evaluate import _LEGACY_OVERRIDES, _legacy_match

    if not stop.overridable:
        return "FALSE"
    keys = [stop.gate, *([stop.dimension] if stop.dimension else []),
            *(k for k in _LEGACY_OVERRIDES if _legacy_match(k, stop))]
    return any_of(has("gate_overrides", k) for k in dict.fromkeys(keys))


@dataclass
class _Keys:
    """The safety summary's keys: gate ids and ``label:<dimension>`` (``:warning`` for warnings), in order."""

    stop: list[str] = field(default_factory=list)
    warn: list[str] = field(default_factory=list)

    def add(self, key: str, severity: str) -> None:
        target = self.stop if severity == "stop" else self.warn
        if key not in target:
            target.append(key)

    def all(self) -> list[str]:
        return sorted(set(self.stop) | set(self.warn))


def _drug_layer(plan: Plan, drugs: _Drugs, keys: _Keys, recs: dict[tuple[str, str], str]) -> list[str]:
    """Per drug: continuing, stopped (with / without the exposure rule), and its label records."""
    out = []
    for drug, i in drugs.index.items():
        cont = has("current_drugs", drug)
        out.append(f"{cont} AS c{i}")
        hits, hits_exempt = [], []
        per_key: dict[str, list[str]] = {}
        for stop in plan.drug_stops.get(drug, ()):
            cond = stop.when.to_sql(col)
            hit = all_of([is_true(cond), _action_is(stop, "exclude", cont), f"NOT {_override_sql(stop)}"])
            hits.append(hit)
            if stop.kind != "exposure":
                hits_exempt.append(hit)
            if stop.kind == "safety" and stop.dimension is not None:
                per_key.setdefault(f"label:{stop.dimension}", []).append(hit)
                warn = all_of([is_true(cond), _action_is(stop, "warn", cont)])
                per_key.setdefault(f"label:{stop.dimension}:warning", []).append(warn)
        out.append(f"{any_of(hits)} AS b{i}")
        out.append(f"{any_of(hits_exempt)} AS be{i}")
        for key, parts in per_key.items():
            expr = any_of(parts)
            if expr == "FALSE":
                continue
            keys.add(key, "warning" if key.endswith(":warning") else "stop")
            name = f"r{i}_{len(recs)}"
            recs[(drug, key)] = name
            out.append(f"{expr} AS {name}")
    return out


# ----------------------------------------------------------------------------- one option (layer c)
@dataclass
class _Comp:
    """A component as the gates see it for one patient: its class, and each drug with its presence."""

    drug_class: DrugClass
    drugs: list[tuple[str, str]]  # (drug, present expression)
    present: str  # the component is still in the regimen


@dataclass
class _State:
    """What the gates have done so far to one candidate (SQL expressions)."""

    comps: list[_Comp]
    blocked: list[str]
    recs: dict[str, list[str]] = field(default_factory=dict)
    avoided: list[str] = field(default_factory=list)
    demoted: list[str] = field(default_factory=list)
    evaluated: list[tuple[str, str]] = field(default_factory=list)  # (drug, when its stops were evaluated)

    def record(self, key: str, when: str) -> None:
        self.recs.setdefault(key, []).append(when)


def _class_present(comps: list[_Comp], classes: Iterable[DrugClass]) -> str:
    want = set(classes)
    return any_of(c.present for c in comps if c.drug_class in want)


def _selector(sel: Selector, comps: list[_Comp], drugs: _Drugs) -> str:
    """:func:`mbcpath.engine.plan.selector_matches` on the components still present."""
    if sel.any_regimen:
        return "TRUE"
    parts = []
    if sel.chemotherapy:
        parts.append(_class_present(comps, CHEMOTHERAPY_CLASSES))
    if sel.chemo_free:
        parts.append(_chemo_free(comps))
    if sel.endocrine:
        parts.append(_class_present(comps, ENDOCRINE_CLASSES))
    for c in comps:
        for d, present in c.drugs:
            if not (c.drug_class in sel.classes or d in sel.drugs):
                continue
            cont = drugs.cont(d)
            scope = f"NOT {cont}" if sel.new_only else "TRUE"
            scope = all_of([scope, cont]) if sel.continuing_only else scope
            parts.append(all_of([present, scope]))
    return any_of(parts)


def _chemo_free(comps: list[_Comp]) -> str:
    """:func:`mbcpath.engine.plan.is_chemo_free` of the components present."""
    chemo = _class_present(comps, CHEMOTHERAPY_CLASSES)
    other = _class_present(comps, set(DrugClass) - {DrugClass.LOCAL_THERAPY})
    local = _class_present(comps, {DrugClass.LOCAL_THERAPY})
    only_local = all_of([local, f"NOT {other}"])
    return all_of([f"NOT {chemo}", f"NOT {only_local}"])


def _gate_drug(g: Gate, c: _Comp, d: str) -> bool:
    """Whether ``d`` of component ``c`` is one of the drugs gate ``g`` is about (engine's ``_gate_drugs``)."""
    sel = g.applies_to
    classes = set(sel.classes) | (ENDOCRINE_CLASSES if sel.endocrine else set()) | (
        CHEMOTHERAPY_CLASSES if sel.chemotherapy else set())
    return d in sel.drugs or c.drug_class in classes


class _Option:
    """SQL of one candidate option (static regimen; the dynamic one reuses the gate steps)."""

    def __init__(self, plan: Plan, cand: Candidate, drugs: _Drugs, recs: dict[tuple[str, str], str],
                 gate_cols: dict[str, str], dp: str) -> None:
        self.plan, self.cand, self.drugs, self.recs, self.gate_cols = plan, cand, drugs, recs, gate_cols
        self.dp = dp
        self.exempt = cand.exposure_exempt

    def blocked(self, d: str) -> str:
        return self.drugs.blocked(d, self.exempt)

    # ------------------------------------------------------------- requirements and adjustments
    def requirements(self) -> tuple[str, str]:
        """(passes, depends): no requirement not met nor unknown-and-excluding; some unknown-and-offered."""
        not_met: list[str] = []
        unknown: list[str] = []
        depends: list[str] = []
        for c in self.cand.requires:
            cond = c.cond.to_sql(col)
            not_met.append(is_false(cond))
            (unknown if c.if_unknown == "exclude" else depends).append(f"({cond}) IS NULL")
        return all_of([f"NOT {any_of(not_met)}", f"NOT {any_of(unknown)}"]), any_of(depends)

    def category_priority(self) -> tuple[str, str]:
        """The category after the adjustments (as the order of :data:`CATEGORY_ORDER`) and the priority."""
        cat = str(CATEGORY_ORDER[self.cand.category])
        prio = [str(self.cand.priority)]
        for a in self.cand.adjustments:
            v = is_true(a.cond.to_sql(col))
            if a.category is not None:
                cat = f"(CASE WHEN {v} THEN {CATEGORY_ORDER[a.category]} ELSE {cat} END)"
            if a.priority:
                prio.append(f"(CASE WHEN {v} THEN {a.priority} ELSE 0 END)")
        return cat, " + ".join(prio)

    # ------------------------------------------------------------- static regimen
    def static_state(self) -> _State:
        comps, removed = [], []
        for c in self.cand.regimen.components:
            ds = c.drugs()
            gone = all_of(self.blocked(d) for d in ds) if ds else "FALSE"
            removed.append(gone)
            comps.append(_Comp(c.drug_class, [(d, f"NOT {self.blocked(d)}") for d in ds], f"NOT {gone}"))
        st = _State(comps, [any_of(removed)])
        st.evaluated = [(d, "TRUE") for c in self.cand.regimen.components for d in c.drugs()]
        for g in self.cand.gates or ():
            sel = g.applies_to
            match = _selector(sel, st.comps, self.drugs) if (sel.new_only or sel.continuing_only) else "TRUE"
            self.gate(g, match, st, hold=False)
        return st

    # ------------------------------------------------------------- one gate
    def gate(self, g: Gate, match: str, st: _State, *, hold: bool) -> dict[str, str]:
        """Apply gate ``g`` to the state; returns the drugs it holds (dynamic regimens) -> when."""
        if g.kind == "composition":
            return self._composition(g, match, st, hold)
        v = is_true(self.gate_cols[g.id])
        fire = all_of([match, v])
        if g.effect == "exclude":
            return self._exclude(g, fire, st, hold)
        if g.effect == "add_component":
            self._add(g, fire, st)
            return {}
        st.record(g.id, fire)
        if g.effect == "avoid":
            st.avoided.append(fire)
        elif g.effect == "demote":
            st.demoted.append(fire)
        return {}

    def _held_or_blocked(self, g: Gate, fire: str, st: _State, hold: bool) -> dict[str, str]:
        named = [(c, d, p) for c in st.comps for d, p in c.drugs if _gate_drug(g, c, d)] if hold else []
        if not named:
            st.blocked.append(fire)
            return {}
        any_named = any_of(all_of([c.present, p]) for c, _, p in named)
        st.blocked.append(all_of([fire, f"NOT {any_named}"]))
        return {d: all_of([fire, c.present, p]) for c, d, p in named}

    def _composition(self, g: Gate, match: str, st: _State, hold: bool) -> dict[str, str]:
        fire = all_of([match, f"NOT {any_of(st.blocked)}",
                       f"NOT {_class_present(st.comps, g.needs_classes)}"])
        held = self._held_or_blocked(g, fire, st, hold)
        named = any_of(held.values())
        st.record(g.id, all_of([fire, f"NOT {named}"]))
        return held

    def _exclude(self, g: Gate, fire: str, st: _State, hold: bool) -> dict[str, str]:
        if g.overridable:
            fire = all_of([fire, f"NOT {has('gate_overrides', g.id)}"])
        st.record(g.id, fire)
        return self._held_or_blocked(g, fire, st, hold)

    def _add(self, g: Gate, fire: str, st: _State) -> None:
        spec = g.component
        assert spec is not None
        if spec.drug is not None or not spec.choices:
            raise PlanNotExpressible(f"gate {g.id}: an added component given as one fixed drug is not expressed "
                                     "in SQL (give it as choices)")
        fire = all_of([fire, f"NOT {_class_present(st.comps, [spec.drug_class])}"])
        avail = {d: f"NOT {has('unavailable_drugs', d)}" for d in spec.choices}
        none_avail = all_of(f"NOT {a}" for a in avail.values())
        all_stopped = all_of(any_of([f"NOT {a}", self.blocked(d)]) for d, a in avail.items())
        st.blocked.append(all_of([fire, any_of([none_avail, all_stopped])]))
        for d, a in avail.items():
            st.evaluated.append((d, all_of([fire, a])))
        present = all_of([fire, f"NOT {none_avail}", f"NOT {all_stopped}"])
        st.comps.append(_Comp(spec.drug_class, [(d, all_of([a, f"NOT {self.blocked(d)}"])) for d, a in avail.items()],
                              present))

    # ------------------------------------------------------------- the row
    def records(self, st: _State, when: str) -> dict[str, str]:
        """The safety-summary keys this option sets, given ``when`` it was evaluated at all."""
        out: dict[str, list[str]] = {k: list(ws) for k, ws in st.recs.items()}
        for d, ev in st.evaluated:
            for (drug, key), name in self.recs.items():
                if drug == d:
                    out.setdefault(key, []).append(all_of([ev, name]))
        return {k: all_of([when, any_of(v)]) for k, v in out.items()}


def _static_row(opt: _Option, ci: int, keys: _Keys) -> tuple[str, dict[str, str]]:
    passes, depends = opt.requirements()
    st = opt.static_state()
    classes = opt.cand.regimen.classes()
    chemo_free = "TRUE" if is_chemo_free(classes) else "FALSE"
    for g in opt.cand.gates or ():
        if g.effect == "add_component" and g.component is not None and (
                is_chemo_free(classes | {g.component.drug_class}) != is_chemo_free(classes)):
            raise PlanNotExpressible(f"gate {g.id}: an added component that changes whether {opt.cand.regimen.id} "
                                     "is chemotherapy-free is not expressed in SQL")
        _check_static_selector(g, opt.cand)
    offered = all_of(["x_ok", f"NOT {any_of(st.blocked)}"])
    recs = opt.records(st, "x_ok")
    _note_keys(opt.plan, recs, keys)
    where = f"{col('decision_point')} = {lit(opt.dp)} AND scope IS NULL"
    inner = _inner(opt, passes, offered, depends, chemo_free, any_of(st.avoided), any_of(st.demoted))
    return f"SELECT {_row(opt, ci)} FROM (SELECT *, {inner} FROM d WHERE {where})", recs


def _inner(opt: _Option, ok: str, offered: str, depends: str, chemo_free: str, avoided: str, demoted: str) -> str:
    """The candidate's flags, computed once per row (the outer select and the records read them)."""
    cat, prio = opt.category_priority()
    return (f"{ok} AS x_ok, {offered} AS x_off, {depends} AS x_dep, {chemo_free} AS x_cf, {avoided} AS x_av, "
            f"{demoted} AS x_dm, {cat} AS x_cat, {prio} AS x_pr")


def _check_static_selector(g: Gate, cand: Candidate) -> None:
    sel = g.applies_to
    if not (sel.new_only or sel.continuing_only):
        return
    for other in cand.gates or ():
        spec = other.component
        if other.effect == "add_component" and spec is not None and (
                spec.drug_class in sel.classes or set(spec.choices or ()) & set(sel.drugs)
                or (sel.endocrine and spec.drug_class in ENDOCRINE_CLASSES)):
            raise PlanNotExpressible(f"gate {g.id}: a new-only / continuing-only selector that can match the "
                                     f"component added by {other.id} is not expressed in SQL")


def _note_keys(plan: Plan, recs: dict[str, str], keys: _Keys) -> None:
    for k in recs:
        keys.add(k, "warning" if k.endswith(":warning") else _severity(plan, k))


_PREFERS_FREE = f"(coalesce({col('avoid_chemotherapy')}, FALSE) AND NOT coalesce({col('visceral_crisis')}, FALSE))"


def _row(opt: _Option, ci: int) -> str:
    """The candidate row's columns: order, ids, offered, and the ranking keys of the engine's ``rank``."""
    demoted = f"(CASE WHEN x_dm AND x_cat = {_PREF} THEN {_ALT} ELSE x_cat END)"
    cat = f"(CASE WHEN {_PREFERS_FREE} AND NOT x_cf AND {demoted} = {_PREF} THEN {_ALT} ELSE {demoted} END)"
    select = [
        "pid", f"{ci} AS ci", f"{lit(opt.cand.regimen.id)} AS regimen_id", f"{lit(opt.cand.rule_id)} AS rule_id",
        "x_off AS offered", f"{all_of([_PREFERS_FREE, 'NOT x_cf'])} AS k_free",
        "x_av AS k_avoid", f"{cat} AS k_cat", "x_dep AS k_unk", "-x_pr AS k_prio",
    ]
    return ", ".join(select)


def _severity(plan: Plan, key: str) -> str:
    if key.startswith("label:"):
        return "stop"
    g = next(g for g in plan.regimen_gates if g.id == key)
    return "stop" if g.kind == "composition" or g.effect == "exclude" else "warning"


# ----------------------------------------------------------------------------- the dynamic regimen
@dataclass
class _Dyn:
    """The continue-the-current-regimen option evaluated as a chain of steps (one CTE per gate)."""

    opt: _Option
    uid: int
    universe: list[str]
    ctes: list[tuple[str, str]] = field(default_factory=list)
    held: dict[str, str] = field(default_factory=dict)  # drug -> column holding 'held so far'
    blk: str = "blk"
    added: list[_Comp] = field(default_factory=list)
    evaluated: list[tuple[str, str]] = field(default_factory=list)
    recs: dict[str, list[str]] = field(default_factory=dict)
    avoided: list[str] = field(default_factory=list)
    demoted: list[str] = field(default_factory=list)

    def comps(self) -> list[_Comp]:
        out = [_Comp(c.drug_class, [], "TRUE") for c in self.opt.cand.regimen.components]
        for d in self.universe:
            present = f"({self.opt.drugs.cont(d)} AND NOT {self.held[d]})"
            out.append(_Comp(DRUG_CLASSES[d], [(d, present)], present))
        return out + self.added

    def step(self, g: Gate, k: int) -> None:
        st = _State(self.comps(), [self.blk])
        n = len(st.comps)
        held = self.opt.gate(g, _selector(g.applies_to, st.comps, self.opt.drugs), st, hold=True)
        p = f"s{self.uid}_{k}_"
        cols = [f"{any_of(st.blocked)} AS {p}blk"]
        for d, when in held.items():
            cols.append(f"({self.held[d]} OR {when}) AS {p}h{self.opt.drugs.i(d)}")
        for name, exprs, target in (("a", st.avoided, self.avoided), ("m", st.demoted, self.demoted)):
            if exprs:
                cols.append(f"{any_of(exprs)} AS {p}{name}")
                target.append(f"{p}{name}")
        for j, (key, whens) in enumerate(st.recs.items()):
            cols.append(f"{any_of(whens)} AS {p}q{j}")
            self.recs.setdefault(key, []).append(f"{p}q{j}")
        for j, (d, ev) in enumerate(st.evaluated):
            cols.append(f"{ev} AS {p}e{j}")
            self.evaluated.append((d, f"{p}e{j}"))
        for j, c in enumerate(st.comps[n:]):
            cols.append(f"{c.present} AS {p}ad{j}")
            self.added.append(_Comp(c.drug_class, c.drugs, f"{p}ad{j}"))
        prev = self.ctes[-1][0]
        self.ctes.append((f"s{self.uid}_{k}", f"SELECT *, {', '.join(cols)} FROM {prev}"))
        self.blk = f"{p}blk"
        for d in held:
            self.held[d] = f"{p}h{self.opt.drugs.i(d)}"


def _dynamic_row(opt: _Option, dp: str, ci: int, uid: int, keys: _Keys) -> tuple[list[tuple[str, str]], str,
                                                                               dict[str, str]]:
    """CTE steps, the candidate row's SELECT over the last step, and its record expressions."""
    if any(c.drugs() for c in opt.cand.regimen.components):
        raise PlanNotExpressible(f"regimen {opt.cand.regimen.id}: a dynamic regimen with fixed drug components "
                                 "is not expressed in SQL")
    universe = list(opt.drugs.index)
    dyn = _Dyn(opt, uid, universe)
    passes, depends = opt.requirements()
    start = [f"{opt.drugs.cont(d)} AND {opt.blocked(d)} AS s{uid}_0h{opt.drugs.i(d)}" for d in universe]
    dyn.held = {d: f"s{uid}_0h{opt.drugs.i(d)}" for d in universe}
    dyn.ctes.append((f"s{uid}_0", f"SELECT *, {passes} AS s{uid}_ok, {depends} AS s{uid}_dep, FALSE AS blk, "
                                  f"{', '.join(start)} FROM d "
                                  f"WHERE {col('decision_point')} = {lit(dp)} AND scope IS NULL"))
    dyn.evaluated = [(d, opt.drugs.cont(d)) for d in universe]
    for k, g in enumerate(opt.plan.regimen_gates, start=1):
        dyn.step(g, k)
    when = all_of([f"s{uid}_ok", f"(array_length({col('current_drugs')}) > 0)"])
    st = _State(dyn.comps(), [dyn.blk], dyn.recs)
    st.evaluated = dyn.evaluated
    recs = opt.records(st, "x_ok")
    _note_keys(opt.plan, recs, keys)
    inner = _inner(opt, when, all_of(["x_ok", f"NOT {dyn.blk}"]).replace("x_ok", when), f"s{uid}_dep",
                   _chemo_free(dyn.comps()), any_of(dyn.avoided), any_of(dyn.demoted))
    return dyn.ctes, f"SELECT {_row(opt, ci)} FROM (SELECT *, {inner} FROM {dyn.ctes[-1][0]})", recs


# ----------------------------------------------------------------------------- the whole query
@dataclass(frozen=True)
class CohortSql:
    """The compiled plan as three statements (DuckDB dialect), each materialised before the next:

    ``d_sql`` (table ``d``: facts + drug verdicts + gate conditions, from the fact table), ``c_sql`` (table
    ``c``: one row per patient and candidate option, from ``d``) and ``answer_sql`` (the answers, from ``c``
    and ``d``)."""

    d_sql: str
    c_steps: tuple[tuple[str, str], ...]  # (view, SELECT): the dynamic option's steps, each over the one before
    c_rows: tuple[str, ...]  # one SELECT per candidate option, over d or the last step
    answer_sql: str
    stop_keys: tuple[str, ...]
    warn_keys: tuple[str, ...]
    facts: tuple[str, ...]

    @property
    def c_sql(self) -> str:
        """Table ``c`` as one statement (the steps as CTEs, the rows as a UNION ALL)."""
        with_ = ("WITH " + ",\n".join(f"{n} AS ({q})" for n, q in self.c_steps) + "\n") if self.c_steps else ""
        return with_ + "\nUNION ALL\n".join(self.c_rows)


def _universe(plan: Plan) -> list[str]:
    return sorted(d for d in DRUG_CLASSES if DRUG_CLASSES[d] is not DrugClass.LOCAL_THERAPY)


def compile_sql(plan: Plan, facts_table: str = "facts") -> CohortSql:
    """The query that answers every row of ``facts_table`` (:func:`fact_columns`) with ``plan``.

    Output columns: ``pid, patient_id, decision_point, out_of_scope, options, excluded, stops, warnings``.
    """
    drugs = _Drugs({d: i for i, d in enumerate(_universe(plan))})
    keys = _Keys()
    recs: dict[tuple[str, str], str] = {}
    drug_cols = _drug_layer(plan, drugs, keys, recs)
    gate_cols = {g.id: f"g{k}" for k, g in enumerate(plan.regimen_gates) if g.id in plan.gate_conditions}
    gate_sql = [f"{plan.gate_conditions[gid].to_sql(col)} AS {name}" for gid, name in gate_cols.items()]
    scope = (f"CASE WHEN {col('her2_status')} = 'negative' THEN 'her2_negative' "
             f"WHEN {col('her2_status')} = 'unresolved' THEN 'her2_unresolved' "
             f"WHEN NOT coalesce({col('distant_metastases')}, TRUE) THEN 'no_distant_metastases' END")
    d_sql = f"SELECT *, {scope} AS scope, {', '.join(drug_cols + gate_sql)} FROM {facts_table}"
    ctes: list[tuple[str, str]] = []
    rows: list[tuple[str, dict[str, str]]] = []
    for dp, cands in plan.candidates.items():
        for ci, cand in enumerate(cands):
            opt = _Option(plan, cand, drugs, recs, gate_cols, dp)
            if cand.regimen.dynamic:
                steps, select, rrecs = _dynamic_row(opt, dp, ci, len(rows), keys)
                ctes.extend(steps)
                rows.append((select, rrecs))
            else:
                rows.append(_static_row(opt, ci, keys))
    all_keys = keys.all()
    union = []
    for select, rrecs in rows:
        extra = ", ".join(f"{rrecs.get(k, 'FALSE')} AS k{j}" for j, k in enumerate(all_keys))
        union.append(select.replace(" FROM ", f", {extra} FROM ", 1) if extra else select)
    return CohortSql(d_sql, tuple(ctes), tuple(union), _final(all_keys), tuple(keys.stop), tuple(keys.warn),
                     tuple(fact_columns()))


_ORDER = "k_free, k_avoid, k_cat, k_unk, k_prio, rule_id"

#: Aggregates whose spelling differs by dialect: ordered list of a column, and a list without NULLs.
_AGG: dict[str, dict[str, str]] = {
    "duckdb": {"ordered": "list({value} ORDER BY {pos})", "compact": "list_filter([{items}], lambda x: x IS NOT NULL)",
               "empty": "CAST([] AS VARCHAR[])"},
    "spark": {"ordered": "transform(array_sort(collect_list(struct({pos} AS p, {value} AS v))), s -> s.v)",
              "compact": "filter(array({items}), x -> x IS NOT NULL)", "empty": "CAST(array() AS ARRAY<STRING>)"},
}


def _final(all_keys: list[str]) -> str:
    flags = ", ".join(f"bool_or(k{j}) AS k{j}" for j in range(len(all_keys))) or "TRUE AS k_none"
    return f"""WITH o AS (SELECT *, row_number() OVER (PARTITION BY pid, regimen_id ORDER BY {_ORDER}) AS rn
    FROM c WHERE offered),
best AS (SELECT pid, regimen_id, row_number() OVER (PARTITION BY pid ORDER BY {_ORDER}) AS pos FROM o WHERE rn = 1),
ex AS (SELECT pid, regimen_id, min(ci) AS pos FROM c WHERE NOT offered AND NOT EXISTS (
    SELECT 1 FROM best WHERE best.pid = c.pid AND best.regimen_id = c.regimen_id) GROUP BY pid, regimen_id),
opt_l AS (SELECT pid, {{ordered:regimen_id:pos}} AS options FROM best GROUP BY pid),
ex_l AS (SELECT pid, {{ordered:regimen_id:pos}} AS excluded FROM ex GROUP BY pid),
rec AS (SELECT pid, {flags} FROM c GROUP BY pid)
SELECT d.pid AS pid, d.patient_id AS patient_id, d.{col('decision_point')} AS decision_point,
  d.scope AS out_of_scope,
  coalesce(opt_l.options, {{empty}}) AS options, coalesce(ex_l.excluded, {{empty}}) AS excluded,
  {{stops}} AS stops, {{warnings}} AS warnings
FROM d LEFT JOIN opt_l ON opt_l.pid = d.pid LEFT JOIN ex_l ON ex_l.pid = d.pid LEFT JOIN rec ON rec.pid = d.pid
ORDER BY d.pid"""


@dataclass(frozen=True)
class Rendered:
    """The compiled plan's statements in one dialect."""

    d_sql: str
    c_steps: tuple[tuple[str, str], ...]
    c_rows: tuple[str, ...]
    c_sql: str
    answer_sql: str


def render(compiled: CohortSql, dialect: str = "duckdb") -> Rendered:
    """The statements in ``dialect`` (``duckdb``, or ``spark`` through sqlglot plus :data:`_AGG`)."""
    agg = _AGG[dialect]
    keys = sorted(set(compiled.stop_keys) | set(compiled.warn_keys))

    def listed(which: tuple[str, ...]) -> str:
        items = [f"CASE WHEN coalesce(rec.k{j}, FALSE) THEN {lit(k)} END" for j, k in enumerate(keys)
                 if k in which]
        return agg["compact"].format(items=", ".join(items)) if items else agg["empty"]

    def tr(sql: str) -> str:
        return sql if dialect == "duckdb" else _transpile(sql, dialect)

    final = tr(compiled.answer_sql).replace("{ordered:regimen_id:pos}",
                                            agg["ordered"].format(value="regimen_id", pos="pos"))
    final = final.replace("{empty}", agg["empty"])
    final = final.replace("{stops}", listed(compiled.stop_keys)).replace("{warnings}", listed(compiled.warn_keys))
    return Rendered(tr(compiled.d_sql), tuple((n, tr(q)) for n, q in compiled.c_steps),
                    tuple(tr(q) for q in compiled.c_rows), tr(compiled.c_sql) if dialect == "duckdb" else "", final)


def _transpile(sql: str, dialect: str) -> str:
    """DuckDB SQL -> ``dialect`` with sqlglot, the aggregate placeholders kept as they are."""
    import sqlglot

    marks = {"{ordered:regimen_id:pos}": "mbc_ordered_placeholder()", "{empty}": "mbc_empty_placeholder()",
             "{stops}": "mbc_stops_placeholder()", "{warnings}": "mbc_warnings_placeholder()"}
    for k, v in marks.items():
        sql = sql.replace(k, v)
    out = sqlglot.transpile(sql, read="duckdb", write=dialect)[0]
    for k, v in marks.items():
        out = out.replace(v.upper(), k).replace(v, k)
    return out


def fact_rows(pfs: Iterable[tuple[int, str, Any, dict[str, Any]]]) -> list[tuple[Any, ...]]:
    """Rows of the fact table from ``(pid, patient_id, gate override keys, fact values)``."""
    names = [n for n in fact_columns() if n not in BASE_COLUMNS]
    out = []
    for pid, patient_id, overrides, values in pfs:
        out.append((pid, patient_id, sorted(overrides), *(_cell(FACT_TYPES[n].kind, values.get(n)) for n in names)))
    return out


def _cell(kind: str, v: Any) -> Any:
    if v is None:
        return None
    if kind == "set":
        return sorted(v)
    if kind == "number":
        return float(v)
    return v
