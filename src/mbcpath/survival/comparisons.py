"""Which options may be drawn together, and on what basis.

Curves drawn on one chart must share a basis the chart states:

1. **randomised**: arms of one randomised trial the options cite directly (the
   comparator arm is the reference; every other option in the group has its own
   record against it);
2. **anchored**: an option without such a trial joins a group through a
   connected network of randomised trials: its curve is the group's reference
   curve times its hazard ratio against the reference from the network
   meta-analysis of the decision point's trials (random effects), with that
   HR's uncertainty carried through;
3. **unanchored**: an option with no connected evidence is drawn alone, from
   its own trial arm, labelled as an unanchored single-arm estimate.

Each option's own curve comes from the trials it cites directly
(:func:`mbcpath.survival.evidence.direct_trials`); among several, the most
recently reported analysis is used (a contemporary control arm rather than a
decade-old one).

References
----------
Bucher HC, Guyatt GH, Griffith LE, Walter SD. The results of direct and
indirect treatment comparisons in meta-analysis of randomized controlled
trials. J Clin Epidemiol 1997;50:683-91.
Phillippo DM, Ades AE, Dias S, Palmer S, Abrams KR, Welton NJ. NICE DSU
Technical Support Document 18: methods for population-adjusted indirect
comparisons in submissions to NICE. 2016 (anchored vs unanchored comparisons).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mbcpath.survival.evidence import Analysis, analyses_for_arm, direct_trials, pick_latest

Role = Literal["reference", "randomised", "anchored", "unanchored"]

__all__ = ["Group", "Member", "Plan", "plan_endpoint"]


@dataclass
class Member:
    """One option in a group: where its curve comes from."""

    option: Any
    role: Role
    analysis: Analysis | None  # its own analysis (None for an anchored member without one)
    arm_id: str | None
    reference_arm: str | None = None  # for randomised members: the record's comparator arm

    @property
    def regimen(self) -> str:
        return str(self.option.regimen_id)


@dataclass
class Group:
    """Options drawn on one chart, on one basis."""

    kind: Literal["randomised", "anchored", "unanchored"]
    endpoint: str
    reference: Member
    members: list[Member] = field(default_factory=list)

    @property
    def all(self) -> list[Member]:
        return [self.reference, *self.members]

    @property
    def id(self) -> str:
        a = self.reference.analysis
        where = a.trial.id if a is not None else "none"
        return f"{self.endpoint}:{self.kind}:{where}:{self.reference.regimen}"


@dataclass
class Plan:
    groups: list[Group]
    skipped: list[str]


def drawable(an: Analysis, arm_id: str) -> bool:
    """Enough published numbers to draw the arm's curve: bundled patient-level data, or at least one point
    of its own (median or landmark) plus, for a two-arm comparison, enough for a joint fit."""
    from mbcpath.survival.ipd import dataset_for

    if dataset_for(an.trial.id, an.endpoint, tuple(an.trial.aliases)) is not None and arm_id in an.arms[:2]:
        return True
    return len(an.points(arm_id, None)) >= 1


def _home(option: Any, kb: Any, endpoint: str, facts: Mapping[str, Any]) -> tuple[Analysis, str] | None:
    """The option's own analysis: the most recent drawable one among its direct trials."""
    found: list[tuple[Analysis, str]] = []
    for trial, arm in direct_trials(option, kb):
        for an in analyses_for_arm(trial, endpoint, arm.id, facts):
            if drawable(an, arm.id):
                found.append((an, arm.id))
    latest = pick_latest([a for a, _ in found])
    return next((x for x in found if x[0] is latest), None)


def _randomised_group(option: Any, pending: Sequence[Any], kb: Any, endpoint: str, facts: Mapping[str, Any]
                      ) -> Group | None:
    """A group around a randomised trial ``option`` cites where the comparator arm and at least one other
    arm (each with its own HR record against the comparator) are options still to place."""
    by_regimen = {o.regimen_id: o for o in pending}
    best: Group | None = None
    for trial, arm in direct_trials(option, kb):
        if not trial.randomized:
            continue
        for an in analyses_for_arm(trial, endpoint, arm.id, facts):
            if not an.comparable or not all(drawable(an, a) for a in an.arms):
                continue
            group = _grow(an, trial, by_regimen, kb, endpoint, facts)
            if group is not None and (best is None or len(group.all) > len(best.all)):
                best = group
    return best


def _cites_directly(option: Any, trial: Any, kb: Any) -> bool:
    return any(t.id == trial.id for t, _ in direct_trials(option, kb))


def _grow(an: Analysis, trial: Any, by_regimen: Mapping[str, Any], kb: Any, endpoint: str,
          facts: Mapping[str, Any]) -> Group | None:
    ref_arm = an.arms[1]
    ref_opt = by_regimen.get(an.arm(ref_arm).regimen or "")
    if ref_opt is None or not _cites_directly(ref_opt, trial, kb):
        return None
    group = Group("randomised", endpoint, Member(ref_opt, "reference", an, ref_arm))
    for other in trial.arms:
        opt = by_regimen.get(other.regimen or "")
        if other.id == ref_arm or opt is None or opt is ref_opt or not _cites_directly(opt, trial, kb):
            continue
        if any(m.option is opt for m in group.members):
            continue
        rec = next((a for a in analyses_for_arm(trial, endpoint, other.id, facts)
                    if a.comparable and a.arms == [other.id, ref_arm] and drawable(a, other.id)), None)
        if rec is not None:
            group.members.append(Member(opt, "randomised", rec, other.id, reference_arm=ref_arm))
    return group if group.members else None


def plan_endpoint(options: Sequence[Any], kb: Any, endpoint: str, facts: Mapping[str, Any],
                  network_component: Any = None) -> Plan:
    """Group the options for one endpoint.

    ``network_component(regimen_a, regimen_b)`` says whether two regimens lie in
    one connected network of the decision point's randomised trials (None: no
    anchoring).
    """
    ranked = sorted(options, key=lambda o: o.rank)
    pending = list(ranked)
    groups: list[Group] = []
    for opt in ranked:
        if opt not in pending:
            continue
        g = _randomised_group(opt, pending, kb, endpoint, facts)
        if g is not None:
            groups.append(g)
            for m in g.all:
                pending.remove(m.option)
    skipped: list[str] = []
    homes: dict[str, tuple[Analysis, str]] = {}
    for opt in list(pending):
        h = _home(opt, kb, endpoint, facts)
        if h is None:
            pending.remove(opt)
            skipped.append(_why_not(opt, kb, endpoint))
        else:
            homes[opt.regimen_id] = h
    _anchor(groups, pending, homes, endpoint, network_component)
    for opt in pending:
        an, arm = homes[opt.regimen_id]
        groups.append(Group("unanchored", endpoint, Member(opt, "unanchored", an, arm)))
    groups.sort(key=lambda g: min(m.option.rank for m in g.all))
    return Plan(groups, skipped)


def _anchor(groups: list[Group], pending: list[Any], homes: Mapping[str, tuple[Analysis, str]], endpoint: str,
            connected: Any) -> None:
    """Attach each pending option to the best-ranked group whose reference is connected to it in the
    network; options connected only to each other form a group around the best-ranked of them."""
    if connected is None:
        return
    for opt in list(pending):
        target = next((g for g in groups if connected(opt.regimen_id, g.reference.regimen)), None)
        if target is None:
            continue
        an, arm = homes[opt.regimen_id]
        target.members.append(Member(opt, "anchored", an, arm))
        target.kind = "anchored"
        pending.remove(opt)
    for opt in list(pending):
        if opt not in pending:
            continue
        mates = [o for o in pending if o is not opt and connected(o.regimen_id, opt.regimen_id)]
        if not mates:
            continue
        an, arm = homes[opt.regimen_id]
        group = Group("anchored", endpoint, Member(opt, "reference", an, arm))
        for o in mates:
            o_an, o_arm = homes[o.regimen_id]
            group.members.append(Member(o, "anchored", o_an, o_arm))
            pending.remove(o)
        pending.remove(opt)
        groups.append(group)


def _why_not(option: Any, kb: Any, endpoint: str) -> str:
    pairs = direct_trials(option, kb)
    if not pairs:
        return (f"{option.regimen_id}: no cited trial has an arm with this regimen, so there is no curve "
                "of its own to draw")
    names = ", ".join(sorted({t.id for t, _ in pairs}))
    return (f"{option.regimen_id} {endpoint.upper()}: the trials it cites directly ({names}) report no "
            f"{endpoint.upper()} analysis with enough numbers to draw a curve for this patient's population")
