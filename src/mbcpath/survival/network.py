"""The network meta-analysis of a decision point's randomised trials, from the knowledge base.

Nodes are regimens (``kb/regimens``); edges are the hazard ratios of the
randomised trials whose setting matches the decision point
(:func:`mbcpath.survival.evidence.network_contrasts`). Each connected
sub-network is analysed on its own (:func:`mbcpath.survival.nma.network_meta_analysis`,
log HR, small values good). :func:`network_report` is what ``mbcpath nma`` and
the web page show: the graph, a league table of every pairwise HR with its 95%
CI, P-scores, heterogeneity (tau^2, I^2, Q), inconsistency (design-based Q
decomposition and node-splitting where loops exist) and the trials feeding
each comparison.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mbcpath.errors import ModelError
from mbcpath.survival.evidence import NetworkContrast, network_contrasts
from mbcpath.survival.nma import NMAResult, connected_components, network_meta_analysis

Z95 = 1.959963984540054
Model = Literal["common", "random"]

__all__ = ["NetworkAnalysis", "NetworkReport", "network_for", "network_report"]


@dataclass
class Component:
    treatments: list[str]
    contrasts: list[NetworkContrast]
    result: NMAResult


@dataclass
class NetworkAnalysis:
    """Every connected sub-network of one decision point and endpoint, analysed."""

    decision_point: str
    endpoint: str
    contrasts: list[NetworkContrast]
    components: list[Component]

    def component_of(self, regimen: str) -> Component | None:
        return next((c for c in self.components if regimen in c.treatments), None)

    def connected(self, a: str, b: str) -> bool:
        c = self.component_of(a)
        return c is not None and b in c.treatments and a != b

    def log_hr(self, a: str, b: str, model: Model = "random") -> tuple[float, float, dict[str, float]]:
        """log HR of ``a`` vs ``b`` with its SE and the trials feeding it (share of weight)."""
        c = self.component_of(a)
        if c is None or b not in c.treatments:
            raise ModelError(f"{a} and {b}: not connected in the {self.decision_point} {self.endpoint.upper()} network")
        est, se = c.result.effect(a, b, model)
        return est, se, c.result.contributions(a, b, model)


def _analyse(contrasts: list[NetworkContrast], decision_point: str, endpoint: str) -> NetworkAnalysis:
    comps = []
    for treatments in connected_components([c.treat1 for c in contrasts], [c.treat2 for c in contrasts]):
        rows = [c for c in contrasts if c.treat1 in treatments]
        res = network_meta_analysis([c.log_hr for c in rows], [c.se for c in rows], [c.treat1 for c in rows],
                                    [c.treat2 for c in rows], [c.trial for c in rows], small_values_good=True)
        comps.append(Component(list(treatments), rows, res))
    return NetworkAnalysis(decision_point, endpoint, contrasts, comps)


_CACHE: dict[tuple[int, str, str], NetworkAnalysis] = {}
_LOCK = threading.Lock()


def network_for(kb: Any, decision_point: str, endpoint: str) -> NetworkAnalysis:
    """The analysed network for ``kb`` (cached per KB object; thread-safe)."""
    key = (id(kb), decision_point, endpoint)
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _analyse(network_contrasts(kb.trials.values(), decision_point, endpoint),
                                   decision_point, endpoint)
        return _CACHE[key]


# ----------------------------------------------------------------------------- the report
class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HR(_Out):
    """A hazard ratio with its 95% CI (row treatment vs column treatment)."""

    hr: float
    lower: float
    upper: float


class Edge(_Out):
    treat1: str
    treat2: str
    trials: list[str]
    direct_hr: HR
    contrasts: list[str] = Field(description="each trial's HR and analysis")


class LeagueCell(_Out):
    row: str
    column: str
    network: HR | None = Field(None, description="network estimate, row vs column")
    direct: HR | None = Field(None, description="pooled direct evidence, row vs column (None: no trial compared them)")
    trials: dict[str, float] = Field(default_factory=dict, description="trials feeding the network estimate "
                                                                         "and their share of its weight")


class SplitOut(_Out):
    treat1: str
    treat2: str
    k: int
    prop_direct: float
    network: HR
    direct: HR | None
    indirect: HR | None
    ratio_direct_indirect: HR | None = None
    p: float | None


class Heterogeneity(_Out):
    tau2: float
    tau: float
    i2: float
    i2_ci95: tuple[float, float] | None
    q: float
    df: int
    p: float | None


class Inconsistency(_Out):
    assessable: bool
    note: str
    q_within: float | None = None
    df_within: int | None = None
    q_between: float | None = None
    df_between: int | None = None
    p_between: float | None = None
    q_between_random: float | None = None
    p_between_random: float | None = None
    tau2_within: float | None = None
    node_split: list[SplitOut] = Field(default_factory=list)


class ComponentReport(_Out):
    treatments: list[str]
    names: dict[str, str]
    edges: list[Edge]
    league: list[LeagueCell]
    p_scores: dict[str, float]
    heterogeneity: Heterogeneity
    inconsistency: Inconsistency
    n_trials: int
    notes: list[str] = Field(default_factory=list)


class NetworkReport(_Out):
    """What ``mbcpath nma`` prints and the web page draws."""

    decision_point: str
    endpoint: str
    model: Model
    kb_release: str | None = None
    measure: str = "hazard ratio (row vs column; < 1 favours the row treatment)"
    components: list[ComponentReport]
    trials_without_contrast: list[str] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)


def _hr(est: float, se: float) -> HR:
    return HR(hr=round(math.exp(est), 4), lower=round(math.exp(est - Z95 * se), 4),
              upper=round(math.exp(est + Z95 * se), 4))


def _edges(comp: Component, model: Model) -> list[Edge]:
    pairs: dict[tuple[str, str], list[NetworkContrast]] = {}
    for c in comp.contrasts:
        pairs.setdefault(tuple(sorted((c.treat1, c.treat2))), []).append(c)  # type: ignore[arg-type]
    out = []
    for (a, b), rows in sorted(pairs.items()):
        d = comp.result.direct(a, b, model)
        assert d is not None
        out.append(Edge(treat1=a, treat2=b, trials=sorted({r.trial for r in rows}), direct_hr=_hr(d.estimate, d.se),
                        contrasts=[f"{r.trial}: {r.treat1} vs {r.treat2} HR {math.exp(r.log_hr):.2f} "
                                   f"(SE of log HR {r.se:.3f}; {r.analysis})" for r in rows]))
    return out


def _league(comp: Component, model: Model, order: list[str]) -> list[LeagueCell]:
    cells = []
    for a in order:
        for b in order:
            if a == b:
                continue
            est, se = comp.result.effect(a, b, model)
            d = comp.result.direct(a, b, model)
            cells.append(LeagueCell(row=a, column=b, network=_hr(est, se),
                                    direct=None if d is None else _hr(d.estimate, d.se),
                                    trials={k: round(v, 3) for k, v in comp.result.contributions(a, b, model).items()}))
    return cells


def _inconsistency(comp: Component, model: Model) -> Inconsistency:
    res = comp.result
    dec = res.decomposition()
    splits = [s for s in res.split(model) if s.indirect is not None and s.direct is not None]
    if dec.df_between <= 0 and not splits:
        return Inconsistency(assessable=False, note="no closed loop of evidence: direct and indirect evidence never "
                                                    "meet, so inconsistency cannot be assessed (consistency is "
                                                    "assumed, not checked)")
    node = [SplitOut(treat1=s.a, treat2=s.b, k=s.k, prop_direct=round(s.prop_direct, 3),
                     network=_hr(s.nma, s.nma_se), direct=_hr(s.direct or 0.0, s.direct_se or 0.0),
                     indirect=_hr(s.indirect or 0.0, s.indirect_se or 0.0),
                     ratio_direct_indirect=None if s.diff is None else _hr(s.diff, math.sqrt(
                         (s.direct_se or 0) ** 2 + (s.indirect_se or 0) ** 2)),
                     p=None if s.p is None else round(s.p, 4)) for s in splits]
    return Inconsistency(assessable=True, note="design-based decomposition of Q (Krahn 2013) and node-splitting "
                                               "by back-calculation (Dias 2010)",
                         q_within=round(dec.q_within, 4), df_within=dec.df_within, q_between=round(dec.q_between, 4),
                         df_between=dec.df_between, p_between=dec.p_between,
                         q_between_random=round(dec.q_between_random, 4), p_between_random=dec.p_between_random,
                         tau2_within=round(dec.tau2_within, 6), node_split=node)


def _component_report(comp: Component, model: Model, names: dict[str, str]) -> ComponentReport:
    res = comp.result
    scores = res.p_scores(model)
    order = sorted(comp.treatments, key=lambda t: (-scores[t], t))
    from scipy.special import chdtrc

    het = Heterogeneity(tau2=round(res.tau2, 6), tau=round(res.tau, 6), i2=round(res.i2, 4),
                        i2_ci95=None if (ci := res.i2_interval()) is None else (round(ci[0], 4), round(ci[1], 4)),
                        q=round(res.q, 4), df=res.df, p=float(chdtrc(res.df, res.q)) if res.df > 0 else None)
    notes = list(res.notes)
    if res.df == 0:
        notes.append("each comparison rests on a single trial: heterogeneity cannot be estimated (tau^2 = 0 by "
                     "construction, so random and common effects coincide)")
    notes += sorted({c.note for c in comp.contrasts if c.derived})
    return ComponentReport(treatments=order, names={t: names.get(t, t) for t in order}, edges=_edges(comp, model),
                           league=_league(comp, model, order), p_scores={t: round(scores[t], 4) for t in order},
                           heterogeneity=het, inconsistency=_inconsistency(comp, model),
                           n_trials=len({c.trial for c in comp.contrasts}), notes=notes)


def network_report(kb: Any, decision_point: str, endpoint: str = "pfs", model: Model = "random") -> NetworkReport:
    """The network for ``decision_point`` and ``endpoint``, every sub-network reported.

    References
    ----------
    Rücker G. Network meta-analysis, electrical networks and graph theory.
    Res Synth Methods 2012;3:312-24.
    Salanti G. Indirect and mixed-treatment comparison, network, or
    multiple-treatments meta-analysis: many names, many benefits, many concerns
    for the next generation evidence synthesis tool. Res Synth Methods
    2012;3:80-97 (transitivity).
    """
    if model not in ("common", "random"):
        raise ModelError(f"model = {model!r}: must be 'common' or 'random'")
    net = network_for(kb, decision_point, endpoint)
    names = {rid: r.name for rid, r in getattr(kb, "regimens", {}).items()}
    used = {c.trial for c in net.contrasts}
    from mbcpath.survival.evidence import SETTINGS

    settings = set(SETTINGS[decision_point])
    without = sorted(t.id for t in kb.trials.values() if set(t.settings) & settings and t.id not in used)
    return NetworkReport(
        decision_point=decision_point, endpoint=endpoint, model=model,
        kb_release=getattr(getattr(kb, "release", None), "kb_release", None),
        components=[_component_report(c, model, names) for c in net.components],
        trials_without_contrast=without,
        assumptions=["transitivity: the trials' populations are similar in the effect modifiers (line, prior "
                     "therapy, HR status), so indirect comparisons are meaningful",
                     "proportional hazards within each trial (one HR summarises each comparison)",
                     "a common heterogeneity variance for every comparison (DerSimonian-Laird tau^2)",
                     "sub-networks that share no trial are not compared at all"])
