"""Load the drug-label safety table (``kb/labels/``): one file per drug, plus the dimensions.

``kb/labels/<drug-with-hyphens>.yaml`` holds a :class:`~mbcpath.kb.models.DrugLabel` (what the
drug's label says to do for every safety dimension) and ``kb/labels/dimensions.yaml`` a
:class:`~mbcpath.kb.models.LabelDimensionsFile` (the default trigger of each dimension and the
interacting-drug categories). Nothing is read at import time; :func:`load_labels` and
:func:`load_dimensions` read when called, and :func:`label_problems` cross-checks the table
against the source registry and the drug vocabulary (the loader turns its findings into one
:class:`~mbcpath.errors.KnowledgeBaseError`).

References
----------
US Food and Drug Administration. 21 CFR 201.57: specific requirements on content and format of
labeling for human prescription drugs (boxed warning, 2 dosage and administration, 4
contraindications, 5 warnings and precautions, 7 drug interactions, 8 use in specific populations).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from mbcpath.domain.drugs import DRUG_CLASSES
from mbcpath.domain.patient import InteractingDrug
from mbcpath.domain.validation import loc_to_path
from mbcpath.errors import KnowledgeBaseError
from mbcpath.kb.models import (
    LABEL_DIMENSIONS,
    DrugLabel,
    LabelDimension,
    LabelDimensionsFile,
    LabelRule,
    Source,
)

M = TypeVar("M", bound=BaseModel)

#: The file that describes the dimensions; every other ``*.yaml`` in the folder is a drug label.
DIMENSIONS_FILE = "dimensions.yaml"
#: Effects that stop a drug (new or continuing) or a new start: every source they cite must be verified.
RESTRICTIVE_EFFECTS = frozenset({"contraindicated", "withhold_stop", "do_not_start"})
INTERACTION_CATEGORIES = frozenset(c.value for c in InteractingDrug)


def label_file_name(drug: str) -> str:
    """``'trastuzumab deruxtecan'`` -> ``'trastuzumab-deruxtecan.yaml'``."""
    return drug.replace(" ", "-") + ".yaml"


def _read(model: type[M], path: Path) -> M:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with path.open(encoding="utf-8") as fh:
            data: Any = yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as err:
        raise KnowledgeBaseError(f"not valid YAML: {err}", path=str(path)) from None
    except OSError as err:
        raise KnowledgeBaseError(f"cannot read: {err.strerror}", path=str(path)) from None
    try:
        return model.model_validate(data)
    except ValidationError as err:
        issues = [f"{loc_to_path(tuple(e['loc']))}: {str(e['msg']).removeprefix('Value error, ')}"
                  f" (value: {e.get('input')!r:.80})" for e in err.errors(include_url=False)]
        raise KnowledgeBaseError("; ".join(issues[:5]) + (f" (+{len(issues) - 5} more)" if len(issues) > 5 else ""),
                                 path=str(path), issues=issues) from None


def load_labels(root: Path) -> dict[str, DrugLabel]:
    """Read and validate every drug label below ``root/labels``, keyed by drug (INN).

    Raises :class:`~mbcpath.errors.KnowledgeBaseError` naming the file when one does not
    validate, when a file name does not match its ``drug`` field, or when a drug of the
    vocabulary has no label file (a drug without a label would switch its safety rules off).
    """
    folder = Path(root) / "labels"
    labels: dict[str, DrugLabel] = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name == DIMENSIONS_FILE:
            continue
        label = _read(DrugLabel, path)
        if path.name != label_file_name(label.drug):
            raise KnowledgeBaseError(f"file name does not match drug {label.drug!r}; "
                                     f"rename it to {label_file_name(label.drug)!r}", path=str(path))
        labels[label.drug] = label
    missing = sorted(set(DRUG_CLASSES) - set(labels))
    if missing:
        raise KnowledgeBaseError(f"no label file for drug(s) {missing}: every drug of the vocabulary needs "
                                 f"one (kb/labels/<drug-with-hyphens>.yaml)", path=str(folder))
    return labels


def load_dimensions(root: Path) -> LabelDimensionsFile:
    """Read and validate ``root/labels/dimensions.yaml``; it must describe exactly the known dimensions."""
    path = Path(root) / "labels" / DIMENSIONS_FILE
    dims = _read(LabelDimensionsFile, path)
    ids = [d.id for d in dims.dimensions]
    if sorted(ids) != sorted(LABEL_DIMENSIONS) or len(set(ids)) != len(ids):
        raise KnowledgeBaseError(f"dimensions {ids} must be exactly {list(LABEL_DIMENSIONS)}, each once",
                                 path=str(path))
    cats = set(dims.interaction_categories)
    if cats != INTERACTION_CATEGORIES:
        raise KnowledgeBaseError(f"interaction_categories must describe exactly {sorted(INTERACTION_CATEGORIES)}; "
                                 f"missing {sorted(INTERACTION_CATEGORIES - cats)}, unknown "
                                 f"{sorted(cats - INTERACTION_CATEGORIES)}", path=str(path))
    return dims


def label_problems(labels: Mapping[str, DrugLabel], dimensions: LabelDimensionsFile,
                   sources: Mapping[str, Source]) -> list[str]:
    """Cross-checks the models cannot make alone; an empty list means the table is sound.

    Every cited source key resolves; every ``interacting`` category is one of
    :class:`~mbcpath.domain.patient.InteractingDrug`; every restrictive rule (contraindicated,
    withhold_stop, do_not_start) cites only verified, unretracted sources, because a hard stop
    must never rest on text nobody read.
    """
    problems: list[str] = []
    for dimension in dimensions.dimensions:
        problems += [f"dimensions#{dimension.id}: source {k!r} is not in kb/sources"
                     for k in dimension.sources if k not in sources]
    for drug, label in sorted(labels.items()):
        problems += [f"labels/{drug}: source {k!r} is not in kb/sources" for k in label.sources if k not in sources]
        for dim, rules in label.dimensions.items():
            for i, rule in enumerate(rules):
                problems += _rule_problems(f"labels/{drug}#{dim}[{i}]", rule.effect, rule.sources,
                                           rule.interacting, sources)
    return problems


def effective_condition(rule: LabelRule, dimension: LabelDimension) -> str:
    """The condition under which ``rule`` applies, as one condition string.

    A rule without ``when`` takes its dimension's default trigger. In the interactions dimension
    the rule's ``interacting`` categories are ANDed in as "any of them is among the patient's
    interacting drugs": ``(<trigger>) and ('a' in interacting_drugs or 'b' in interacting_drugs)``.
    """
    base = rule.when or dimension.when
    if not rule.interacting:
        return base
    anyof = " or ".join(f"'{c}' in interacting_drugs" for c in rule.interacting)
    return f"({base}) and ({anyof})"


#: Effects from most to least restrictive, with the short names the matrix uses.
EFFECT_ABBREVIATIONS: dict[str, str] = {
    "contraindicated": "CI", "withhold_stop": "STOP", "do_not_start": "NO-START",
    "dose_adjust": "DOSE", "monitor": "MON", "none": "-",
}


def render_matrix(labels: Mapping[str, DrugLabel]) -> str:
    """A Markdown table drug x dimension listing each cell's distinct effects, most restrictive first.

    ``approved: false`` drugs are marked with an asterisk; ``kb/labels/README.md`` embeds this table
    (regenerated by ``scripts/label_matrix.py``).
    """
    order = list(EFFECT_ABBREVIATIONS)
    head = "| drug | " + " | ".join(LABEL_DIMENSIONS) + " |"
    rows = [head, "|" + "---|" * (len(LABEL_DIMENSIONS) + 1)]
    for drug in sorted(labels):
        label = labels[drug]
        cells = []
        for dim in LABEL_DIMENSIONS:
            effects = sorted({r.effect for r in label.dimensions[dim]}, key=order.index)
            cells.append(" / ".join(EFFECT_ABBREVIATIONS[e] for e in effects))
        mark = "" if label.approved else "*"
        rows.append(f"| {drug}{mark} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def _rule_problems(where: str, effect: str, keys: list[str], interacting: list[str],
                   sources: Mapping[str, Source]) -> list[str]:
    out = [f"{where}: source {k!r} is not in kb/sources" for k in keys if k not in sources]
    out += [f"{where}: unknown interacting category {c!r}; known: {sorted(INTERACTION_CATEGORIES)}"
            for c in interacting if c not in INTERACTION_CATEGORIES]
    unread = [k for k in keys if k in sources and not (sources[k].verified and not sources[k].retracted)]
    if effect in RESTRICTIVE_EFFECTS and (unread or not keys):
        out.append(f"{where}: effect {effect!r} stops a drug, so every source it cites must be verified and "
                   f"unretracted; {unread or 'none cited'} are not (use 'monitor' and say 'check the label')")
    return out
