"""Concordance audit: what was given at each decision, judged against the evidence known on that date.

For each record with a ``decision_date`` and ``given`` drugs, the patient is answered with the KB as of the
decision date (:func:`mbcpath.engine.core.recommend` with ``as_of``; rules, trials and guideline statements
that became public later are left out) and what was given is classed as:

* ``despite_safety_stop``: a drug given is one a safety stop of the answer stopped (checked first);
* ``rank1``: the drugs given make up the rank-1 option;
* ``other_option``: they make up another offered option;
* ``not_offered``: they match no offered option;
* ``out_of_scope``: the answer is out of scope (HER2-negative, unresolved, not metastatic): not judged.

Records without a decision date or given drugs are counted as ``not_judged``. Tables: by decision point,
by year of the decision and by regimen (the matched option's regimen id, else the drugs given); the
override reasons (from CDS Hooks feedback or the record) are counted by class.

The drugs given "make up" an option when every drug given belongs to one of the option's components
(its drug, or one of its choices) and every systemic component has one of its drugs given; local therapy
components are not drugs and are not required.

References
----------
shared/domain.md (decision points); mbcpath.kb.history.kb_as_of (the KB as known on a date).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mbcpath.analytics.records import Accepted, CohortRecord, Rejected
from mbcpath.domain.drugs import DrugClass

CLASSES = ("rank1", "other_option", "not_offered", "despite_safety_stop", "out_of_scope")


@dataclass(frozen=True)
class Judgement:
    """One record's audit: the class, the regimen it matched (or the drugs given) and the decision point."""

    line: int
    patient_id: str
    decision_point: str
    year: int
    verdict: str
    regimen: str
    override_reason: str | None
    as_of: dt.date | None


@dataclass
class AuditReport:
    """Counts by class, overall and by decision point, year and regimen; override reasons by class."""

    judged: list[Judgement] = field(default_factory=list)
    not_judged: int = 0
    rejected: int = 0

    def counts(self) -> Counter[str]:
        return Counter(j.verdict for j in self.judged)

    def table(self, by: str) -> dict[Any, Counter[str]]:
        """Counts by class for each value of ``by`` (``decision_point``, ``year`` or ``regimen``)."""
        out: dict[Any, Counter[str]] = {}
        for j in self.judged:
            out.setdefault(getattr(j, by), Counter())[j.verdict] += 1
        return dict(sorted(out.items(), key=lambda kv: str(kv[0])))

    def override_reasons(self) -> dict[str, Counter[str]]:
        out: dict[str, Counter[str]] = {}
        for j in self.judged:
            if j.override_reason:
                out.setdefault(j.verdict, Counter())[j.override_reason] += 1
        return out

    def as_json(self) -> dict[str, Any]:
        def plain(t: dict[Any, Counter[str]]) -> dict[str, dict[str, int]]:
            return {str(k): dict(v) for k, v in t.items()}

        return {"judged": len(self.judged), "not_judged": self.not_judged, "rejected": self.rejected,
                "counts": dict(self.counts()), "by_decision_point": plain(self.table("decision_point")),
                "by_year": plain(self.table("year")), "by_regimen": plain(self.table("regimen")),
                "override_reasons": plain(self.override_reasons())}


def _drug_sets(option: Any) -> list[frozenset[str]]:
    out = []
    for c in option.components:
        if c.drug_class is DrugClass.LOCAL_THERAPY:
            continue
        drugs = frozenset([c.drug] if c.drug else (c.choices or []))
        if drugs:
            out.append(drugs)
    return out


def makes_up(given: Iterable[str], option: Any) -> bool:
    """Whether the drugs given make up ``option`` (see the module docstring)."""
    g = set(given)
    comps = _drug_sets(option)
    if not comps or not g:
        return False
    covered = set().union(*comps)
    return g <= covered and all(g & c for c in comps)


def judge(rec: CohortRecord, answer: Any) -> tuple[str, str]:
    """(class, regimen) of what was given against ``answer`` (the recommendation as of the decision date)."""
    given = rec.given_drugs or ()
    if answer.out_of_scope is not None:
        return "out_of_scope", "+".join(given)
    stopped = {d for s in answer.safety_stops if s.severity == "stop" for d in s.drugs}
    if stopped & set(given):
        return "despite_safety_stop", "+".join(given)
    for o in answer.options:
        if makes_up(given, o):
            return ("rank1" if o.rank == 1 else "other_option"), o.regimen_id
    return "not_offered", "+".join(given)


def audit(items: Iterable[Accepted | Rejected], kb: Any = None, *, as_of_record_date: bool = True,
          progress: Any = None) -> AuditReport:
    """Audit every record that carries a decision date and the drugs given.

    Parameters
    ----------
    items : iterable of Accepted or Rejected
        From :func:`mbcpath.analytics.records.read_records`.
    as_of_record_date : bool
        Judge against the KB as known on each record's decision date (default); False judges every
        record against the current release.
    """
    from mbcpath.engine.core import recommend
    from mbcpath.kb import load_kb

    kb = kb or load_kb()
    report = AuditReport()
    for item in items:
        if progress is not None:
            progress(1)
        if isinstance(item, Rejected):
            report.rejected += 1
            continue
        rec = item.record
        if rec.decision_date is None or not rec.given_drugs:
            report.not_judged += 1
            continue
        day = rec.decision_date if as_of_record_date else None
        answer = recommend(rec.patient, kb, as_of=day)
        verdict, regimen = judge(rec, answer)
        point = answer.decision_point.value if answer.decision_point is not None else "unknown"
        report.judged.append(Judgement(item.line, rec.patient.id, point,
                                       rec.decision_date.year, verdict, regimen, rec.override_reason, day))
    return report
