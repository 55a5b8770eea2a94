"""What the cohort web page shows: the decision-point mix, the rank-1 options, the concordance audit and the
real-world survival.

Everything is computed in memory from the records of one request and returned; nothing is stored. The
number of records is capped (``max_records``) so one page stays within the server's time budget; the
records beyond the cap are counted, not read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mbcpath.analytics.rw_survival import RwSurvival, rw_survival
from mbcpath.errors import MbcpathError

__all__ = ["CohortView", "cohort_view"]

OUT_OF_SCOPE = "out of scope"


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Share(_Out):
    key: str
    n: int
    share: float


class RejectLine(_Out):
    line: int
    patient_id: str | None
    field: str
    rule: str


class Concordance(_Out):
    """The audit (:mod:`mbcpath.analytics.audit`) of the first records: what was given, judged against the
    evidence known on each record's decision date."""

    considered: int = Field(..., description="records audited (the first ones, up to the page's limit)")
    judged: int
    not_judged: int = Field(..., description="records without a decision date or the drugs given")
    classes: list[str]
    counts: list[Share] = Field(default_factory=list)
    by_decision_point: dict[str, dict[str, int]] = Field(default_factory=dict)
    by_regimen: dict[str, dict[str, int]] = Field(default_factory=dict, description="the most frequent regimens")
    override_reasons: dict[str, dict[str, int]] = Field(default_factory=dict)


def _concordance(accepted: list[Any], kb: Any, limit: int) -> Concordance:
    from mbcpath.analytics.audit import CLASSES, audit

    rep = audit(accepted[:limit], kb)
    counts = rep.counts()
    by_reg = rep.table("regimen")
    top = sorted(by_reg, key=lambda k: (-sum(by_reg[k].values()), str(k)))[:10]
    return Concordance(considered=min(limit, len(accepted)), judged=len(rep.judged), not_judged=rep.not_judged,
                       classes=list(CLASSES), counts=_shares(counts, len(rep.judged)),
                       by_decision_point={str(k): dict(v) for k, v in rep.table("decision_point").items()},
                       by_regimen={str(k): dict(by_reg[k]) for k in top},
                       override_reasons={k: dict(v) for k, v in rep.override_reasons().items()})


class CohortView(_Out):
    """The page's numbers for one cohort."""

    records: int = 0
    rejected: int = 0
    unanswered: int = 0
    not_read: int = Field(0, description="records beyond the cap, not read")
    rejects: list[RejectLine] = Field(default_factory=list, description="the first rejects")
    decision_points: list[Share] = Field(default_factory=list)
    rank1: dict[str, list[Share]] = Field(default_factory=dict, description="decision point -> rank-1 options")
    survival: RwSurvival | None = None
    concordance: Concordance | None = None


def _shares(c: Counter[str], total: int, top: int | None = None) -> list[Share]:
    rows = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return [Share(key=k, n=v, share=round(v / total, 4) if total else 0.0) for k, v in rows]


def _decision(rec: Any) -> tuple[str, str]:
    if rec.out_of_scope is not None or rec.decision_point is None:
        return OUT_OF_SCOPE, "(none)"
    dp = str(getattr(rec.decision_point, "value", rec.decision_point))
    return dp, rec.options[0].regimen_id if rec.options else "(no option)"


def cohort_view(items: Iterable[Any], kb: Any, *, by: str = "regimen", max_records: int = 2000,
                max_rejects: int = 20, audit_records: int = 300, engine: Any = None) -> CohortView:
    """Answer each accepted record with the per-patient engine and summarise; ``items`` are the reader's
    :class:`~mbcpath.analytics.records.Accepted` / :class:`~mbcpath.analytics.records.Rejected`.

    The concordance audit answers each record again with the KB as of its own decision date (the costly
    part), so it covers the first ``audit_records`` accepted records (0: no audit)."""
    from mbcpath.analytics.records import Accepted

    if engine is None:
        from mbcpath.engine import recommend

        engine = recommend
    view = CohortView()
    kept: list[Any] = []
    accepted: list[Any] = []
    dps: dict[int, str] = {}
    mix: Counter[str] = Counter()
    rank1: dict[str, Counter[str]] = {}
    for item in items:
        if view.records + view.rejected >= max_records:
            view.not_read += 1
            continue
        if not isinstance(item, Accepted):
            view.rejected += 1
            if len(view.rejects) < max_rejects:
                view.rejects.append(RejectLine(line=item.line, patient_id=item.patient_id, field=item.field,
                                               rule=item.rule))
            continue
        view.records += 1
        accepted.append(item)
        try:
            dp, first = _decision(engine(item.record.patient, kb))
        except MbcpathError:
            view.unanswered += 1
            continue
        mix[dp] += 1
        rank1.setdefault(dp, Counter())[first] += 1
        dps[id(item.record.patient)] = dp
        kept.append(item.record)
    answered = sum(mix.values())
    view.decision_points = _shares(mix, answered)
    view.rank1 = {dp: _shares(c, mix[dp], 8) for dp, c in sorted(rank1.items(), key=lambda kv: -mix[kv[0]])}
    if accepted and audit_records > 0:
        view.concordance = _concordance(accepted, kb, audit_records)
    if kept:
        view.survival = rw_survival(kept, kb, by, rejected=view.rejected,
                                    decision_point_of=lambda p: dps.get(id(p)))
    return view
