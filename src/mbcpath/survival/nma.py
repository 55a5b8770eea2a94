"""Frequentist network meta-analysis of contrasts (e.g. log hazard ratios).

The graph-theoretical model of Rücker (2012), as in R netmeta: weighted least
squares on the contrasts with the edge-vertex incidence matrix, netmeta's
adjustment of multi-arm studies (so that the graph solution equals GLS with
correlated contrasts), the DerSimonian-Laird generalisation of tau^2, common
and random effects, Cochran's Q, I^2 with its interval, P-scores, league
tables, the design-based decomposition of Q into heterogeneity within designs
and inconsistency between designs (with the full design-by-treatment
interaction random-effects model), and node-splitting by back-calculation
(SIDE). Written from the papers' formulas (and the project's
evidence-synthesis reference, section 3.1), not from netmeta's GPL source; the
tests reproduce netmeta's published output for two worked examples.

Model, for m contrasts among n treatments:

* B: m x n incidence matrix (+1 for treat1, -1 for treat2; TE = treat1 - treat2);
* W = diag(1/v), v the (multi-arm adjusted) variances;
* L = B^T W B, L+ = (L - J/n)^-1 + J/n (Moore-Penrose pseudo-inverse);
* H = B L+ B^T W (hat matrix), fitted contrasts H TE;
* Var(theta_i - theta_j) = L+_ii + L+_jj - 2 L+_ij;
* Q = (TE - H TE)^T W (TE - H TE), df = sum_s (k_s - 1) - (n - 1);
* tau^2 = max(0, (Q - df) / tr((I - H) (B B^T o E / 2) W)), E_ij = 1 when
  contrasts i and j come from the same study;
* random effects: tau^2 added to each contrast variance before the multi-arm
  adjustment, and the model solved again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from mbcpath.errors import ModelError

Z95 = 1.959963984540054

__all__ = [
    "Contrasts",
    "DesignDecomposition",
    "DirectEstimate",
    "NMAResult",
    "SplitRow",
    "connected_components",
    "network_meta_analysis",
]


# ----------------------------------------------------------------------------- data
@dataclass(frozen=True)
class Contrasts:
    """Validated contrast-level data: estimate, variance, treatments and study per contrast."""

    y: NDArray[np.float64]
    var: NDArray[np.float64]
    t1: tuple[str, ...]
    t2: tuple[str, ...]
    study: tuple[str, ...]
    treatments: tuple[str, ...]

    @property
    def m(self) -> int:
        return int(self.y.size)

    @property
    def bmat(self) -> NDArray[np.float64]:
        idx = {t: i for i, t in enumerate(self.treatments)}
        b = np.zeros((self.m, len(self.treatments)))
        for r, (a, c) in enumerate(zip(self.t1, self.t2, strict=True)):
            b[r, idx[a]] = 1.0
            b[r, idx[c]] = -1.0
        return b

    def arms(self, study: str) -> set[str]:
        """Treatments of one study."""
        return {t for a, b, s in zip(self.t1, self.t2, self.study, strict=True) if s == study
                for t in (a, b)}

    def studies(self) -> list[str]:
        return sorted(set(self.study))

    def designs(self) -> dict[tuple[str, ...], list[str]]:
        """Design (sorted treatments of a study) -> its studies."""
        out: dict[tuple[str, ...], list[str]] = {}
        for s in self.studies():
            out.setdefault(tuple(sorted(self.arms(s))), []).append(s)
        return out

    def rows(self, studies: Sequence[str]) -> list[int]:
        keep = set(studies)
        return [i for i, s in enumerate(self.study) if s in keep]

    def rows_of(self, a: str, b: str) -> list[int]:
        """Contrast rows comparing ``a`` and ``b`` directly (either direction)."""
        return [i for i, (x, y) in enumerate(zip(self.t1, self.t2, strict=True)) if {x, y} == {a, b}]

    def subset(self, rows: Sequence[int]) -> Contrasts:
        r = list(rows)
        t1, t2 = tuple(self.t1[i] for i in r), tuple(self.t2[i] for i in r)
        return Contrasts(y=self.y[r], var=self.var[r], t1=t1, t2=t2, study=tuple(self.study[i] for i in r),
                         treatments=tuple(sorted(set(t1) | set(t2))))

    def df(self) -> int:
        return sum(len(self.arms(s)) - 1 for s in self.studies()) - (len(self.treatments) - 1)


def connected_components(treat1: Sequence[str], treat2: Sequence[str]) -> list[list[str]]:
    """Treatments grouped by connected sub-network (each sorted; largest first)."""
    adj: dict[str, set[str]] = {}
    for a, b in zip(treat1, treat2, strict=True):
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)
    seen: set[str] = set()
    comps: list[list[str]] = []
    for start in sorted(adj):
        if start in seen:
            continue
        stack, comp = [start], set()
        while stack:
            u = stack.pop()
            if u in comp:
                continue
            comp.add(u)
            stack.extend(adj[u] - comp)
        seen |= comp
        comps.append(sorted(comp))
    return sorted(comps, key=lambda c: (-len(c), c))


def _check(te: Sequence[float], se: Sequence[float], treat1: Sequence[str], treat2: Sequence[str],
           study: Sequence[str]) -> Contrasts:
    y = np.asarray(te, dtype=np.float64)
    s = np.asarray(se, dtype=np.float64)
    t1, t2, st = tuple(str(x) for x in treat1), tuple(str(x) for x in treat2), tuple(str(x) for x in study)
    m = y.size
    if m == 0:
        raise ModelError("te: no contrasts; a network needs at least one comparison")
    if not (s.size == m == len(t1) == len(t2) == len(st)):
        raise ModelError(f"se/treat1/treat2/study: lengths {s.size}/{len(t1)}/{len(t2)}/{len(st)} "
                         f"differ from te ({m}); give one of each per contrast")
    if np.any(~np.isfinite(y)):
        raise ModelError(f"te = {y[~np.isfinite(y)][0].item()!r}: contrasts must be finite numbers")
    if np.any(~np.isfinite(s)) or np.any(s <= 0):
        raise ModelError(f"se = {s[~np.isfinite(s) | (s <= 0)][0].item()!r}: standard errors must be > 0")
    for a, b in zip(t1, t2, strict=True):
        if a == b:
            raise ModelError(f"treat1 = treat2 = {a!r}: a contrast must compare two different treatments")
    comps = connected_components(t1, t2)
    if len(comps) > 1:
        missing = [t for c in comps[1:] for t in c]
        raise ModelError(f"treatments {missing}: not connected to the rest of the network; analyse "
                         "sub-networks separately")
    data = Contrasts(y=y, var=s**2, t1=t1, t2=t2, study=st, treatments=tuple(sorted(set(t1) | set(t2))))
    for x in data.studies():
        k = len(data.arms(x))
        n_rows = sum(1 for z in st if z == x)
        if n_rows != k * (k - 1) // 2:
            raise ModelError(f"study = {x!r}: {n_rows} contrasts for {k} arms; a multi-arm study must give "
                             f"all {k * (k - 1) // 2} pairwise contrasts")
    return data


# ----------------------------------------------------------------------------- solving
@dataclass
class _Fit:
    theta: NDArray[np.float64]  # centred treatment effects
    lplus: NDArray[np.float64]
    hat: NDArray[np.float64]
    w: NDArray[np.float64]  # adjusted weights per contrast


def _multiarm_weights(var: NDArray[np.float64], arms: list[str], pairs: list[tuple[str, str]]) -> NDArray[np.float64]:
    """netmeta's multi-arm adjustment: adjusted variances for one study's contrasts.

    With R the k x k matrix of the study's contrast variances and B^T B = k I - J
    (complete graph), L~ = -(B^T B) R (B^T B) / (2 k^2); the adjusted variance of
    contrast (i, j) is -1 / pinv(L~)_ij.

    References
    ----------
    Rücker G, Schwarzer G. Reduce dimension or reduce weights? Comparing two
    approaches to multi-arm studies in network meta-analysis. Stat Med
    2014;33:4353-69.
    """
    k = len(arms)
    idx = {a: i for i, a in enumerate(arms)}
    r = np.zeros((k, k))
    for v, (a, b) in zip(var, pairs, strict=True):
        r[idx[a], idx[b]] = r[idx[b], idx[a]] = v
    lap = k * np.eye(k) - np.ones((k, k))  # B^T B of the complete graph
    ltilde = -lap @ r @ lap / (2 * k * k)
    lmat = np.linalg.pinv(ltilde)
    out = np.empty(len(pairs))
    for e, (a, b) in enumerate(pairs):
        wij = -lmat[idx[a], idx[b]]
        if wij <= 0:
            raise ModelError(f"multi-arm study with arms {arms}: its contrast variances are inconsistent "
                             f"(non-positive adjusted weight for {a} vs {b})")
        out[e] = 1.0 / wij
    return out


def _solve(data: Contrasts, var: NDArray[np.float64]) -> _Fit:
    b = data.bmat
    n = b.shape[1]
    v_adj = var.copy()
    by_study: dict[str, list[int]] = {}
    for i, s in enumerate(data.study):
        by_study.setdefault(s, []).append(i)
    for rows in by_study.values():
        if len(rows) > 1:
            arms = sorted({data.t1[i] for i in rows} | {data.t2[i] for i in rows})
            v_adj[rows] = _multiarm_weights(var[rows], arms, [(data.t1[i], data.t2[i]) for i in rows])
    w = 1.0 / v_adj
    lap = b.T @ (w[:, None] * b)
    j = np.ones((n, n)) / n
    lplus = np.linalg.inv(lap - j) + j
    hat = b @ lplus @ b.T * w[None, :]
    theta = lplus @ b.T @ (w * data.y)
    return _Fit(theta=theta, lplus=lplus, hat=hat, w=w)


def _q(data: Contrasts, fit: _Fit) -> float:
    resid = data.y - fit.hat @ data.y
    return float(resid @ (fit.w * resid))


def _tau2_moment(data: Contrasts, hat: NDArray[np.float64], w: NDArray[np.float64], q: float, df: int) -> float:
    """Generalised DerSimonian-Laird: (Q - df) / tr((I - H) (B B^T o E / 2) W), truncated at 0.

    References
    ----------
    Jackson D, White IR, Riley RD. Quantifying the impact of between-study
    heterogeneity in multivariate meta-analyses. Stat Med 2012;31:3805-20.
    Rücker G. Network meta-analysis, electrical networks and graph theory.
    Res Synth Methods 2012;3:312-24.
    """
    if df <= 0:
        return 0.0
    st = np.array(data.study)
    same = (st[:, None] == st[None, :]).astype(np.float64)
    b = data.bmat
    denom = float(np.trace((np.eye(data.m) - hat) @ ((b @ b.T) * same / 2) @ np.diag(w)))
    return max(0.0, (q - df) / denom) if denom > 0 else 0.0


def _chi2_sf(q: float, df: int) -> float | None:
    from scipy.special import chdtrc

    return float(chdtrc(df, q)) if df > 0 else None


def _norm_sf(z: float) -> float:
    from scipy.special import ndtr

    return float(ndtr(-z))


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class DirectEstimate:
    """Pooled direct evidence on one comparison (``a`` vs ``b``)."""

    a: str
    b: str
    estimate: float
    se: float
    k: int
    studies: tuple[str, ...]


@dataclass(frozen=True)
class SplitRow:
    """Node-splitting by back-calculation (SIDE) for one comparison ``a`` vs ``b``."""

    a: str
    b: str
    k: int
    prop_direct: float
    nma: float
    nma_se: float
    direct: float | None
    direct_se: float | None
    indirect: float | None
    indirect_se: float | None
    diff: float | None
    z: float | None
    p: float | None


@dataclass(frozen=True)
class DesignDecomposition:
    """Cochran's Q split into heterogeneity within designs and inconsistency between designs."""

    q_total: float
    df_total: int
    p_total: float | None
    q_within: float
    df_within: int
    p_within: float | None
    q_between: float
    df_between: int
    p_between: float | None
    per_design: tuple[tuple[str, float, int, float | None], ...]
    tau2_within: float
    q_between_random: float
    p_between_random: float | None


@dataclass
class NMAResult:
    """Network meta-analysis result.

    ``effect(a, b, model)`` returns the estimate of a vs b (treat a - treat b
    on the analysis scale) with its standard error; ``table(reference)`` lists
    every treatment against the reference.
    """

    treatments: list[str]
    common: _Fit
    random: _Fit
    q: float
    df: int
    tau2: float
    i2: float
    n_studies: int
    n_contrasts: int
    small_values_good: bool
    notes: list[str] = field(default_factory=list)
    data: Contrasts | None = None

    @property
    def tau(self) -> float:
        return math.sqrt(self.tau2)

    def _fit(self, model: str) -> _Fit:
        if model not in ("common", "random"):
            raise ModelError(f"model = {model!r}: must be 'common' or 'random'")
        return self.common if model == "common" else self.random

    def _data(self) -> Contrasts:
        if self.data is None:
            raise ModelError("this result carries no contrast data (built by hand)")
        return self.data

    def effect(self, a: str, b: str, model: str = "random") -> tuple[float, float]:
        """(estimate, SE) of treatment ``a`` versus ``b``."""
        fit = self._fit(model)
        for x in (a, b):
            if x not in self.treatments:
                raise ModelError(f"treatment = {x!r}: not in the network {self.treatments}")
        i, j = self.treatments.index(a), self.treatments.index(b)
        est = float(fit.theta[i] - fit.theta[j])
        var = float(fit.lplus[i, i] + fit.lplus[j, j] - 2 * fit.lplus[i, j])
        return est, math.sqrt(max(var, 0.0))

    def table(self, reference: str, model: str = "random") -> list[dict[str, float | str]]:
        """Every treatment against ``reference``: estimate, SE, 95% CI (analysis scale)."""
        rows: list[dict[str, float | str]] = []
        for t in self.treatments:
            if t == reference:
                continue
            est, se = self.effect(t, reference, model)
            rows.append({"treatment": t, "reference": reference, "estimate": est, "se": se,
                         "lower": est - Z95 * se, "upper": est + Z95 * se})
        return rows

    def p_scores(self, model: str = "random") -> dict[str, float]:
        """P-scores: mean one-sided probability that a treatment is better than each other one.

        With ``small_values_good`` (log hazard ratios vs a common comparator),
        treatment i beats j when theta_i < theta_j.

        References
        ----------
        Rücker G, Schwarzer G. Ranking treatments in frequentist network
        meta-analysis works without resampling methods. BMC Med Res Methodol
        2015;15:58.
        """
        from scipy.special import ndtr

        n = len(self.treatments)
        out: dict[str, float] = {}
        for i, a in enumerate(self.treatments):
            acc = 0.0
            for j, b in enumerate(self.treatments):
                if i == j:
                    continue
                est, se = self.effect(a, b, model)
                z = (-est if self.small_values_good else est) / se if se > 0 else 0.0
                acc += float(ndtr(z))
            out[a] = acc / (n - 1) if n > 1 else 1.0
        return out

    def i2_interval(self) -> tuple[float, float] | None:
        """95% interval of I^2 from the interval of H = sqrt(Q/df) (Higgins and Thompson 2002).

        SE(ln H) = (ln Q - ln df) / (2 (sqrt(2Q) - sqrt(2 df - 1))) when Q > df + 1, else
        sqrt(1 / (2 (df - 1)) (1 - 1 / (3 (df - 1)^2))); I^2 = (H^2 - 1) / H^2, truncated at 0.

        References
        ----------
        Higgins JPT, Thompson SG. Quantifying heterogeneity in a meta-analysis.
        Stat Med 2002;21:1539-58.
        """
        q, df = self.q, self.df
        if df < 2 or q <= 0:
            return None
        if q > df + 1:
            se = 0.5 * (math.log(q) - math.log(df)) / (math.sqrt(2 * q) - math.sqrt(2 * df - 1))
        else:
            se = math.sqrt(1 / (2 * (df - 1)) * (1 - 1 / (3 * (df - 1) ** 2)))
        ln_h = 0.5 * math.log(q / df)

        def i2(h: float) -> float:
            return max(0.0, (h * h - 1) / (h * h))

        return i2(math.exp(ln_h - Z95 * se)), i2(math.exp(ln_h + Z95 * se))

    def direct(self, a: str, b: str, model: str = "random") -> DirectEstimate | None:
        """Inverse-variance pooled direct evidence on ``a`` vs ``b`` (None without a direct comparison).

        Weights are 1 / (se^2 + tau^2) of the contrasts as given (no multi-arm
        adjustment), tau^2 the network's for the random-effects model, as in
        netmeta's ``netsplit``.
        """
        data = self._data()
        rows = data.rows_of(a, b)
        if not rows:
            return None
        add = self.tau2 if model == "random" else 0.0
        w = 1.0 / (data.var[rows] + add)
        sign = np.array([1.0 if data.t1[i] == a else -1.0 for i in rows])
        est = float(np.sum(w * sign * data.y[rows]) / np.sum(w))
        studies = tuple(sorted({data.study[i] for i in rows}))
        return DirectEstimate(a=a, b=b, estimate=est, se=float(1 / math.sqrt(np.sum(w))), k=len(studies),
                              studies=studies)

    def split(self, model: str = "random") -> list[SplitRow]:
        """Separate indirect from direct evidence (SIDE) by back-calculation, every pair of treatments.

        Direct proportion p = Var(nma) / Var(direct); indirect variance
        1 / (1/Var(nma) - 1/Var(direct)); indirect estimate
        Var(ind) (nma / Var(nma) - direct / Var(direct)); z = (direct -
        indirect) / sqrt(Var(direct) + Var(ind)).

        References
        ----------
        Dias S, Welton NJ, Caldwell DM, Ades AE. Checking consistency in mixed
        treatment comparison meta-analysis. Stat Med 2010;29:932-44.
        König J, Krahn U, Binder H. Visualizing the flow of evidence in network
        meta-analysis and characterizing mixed treatment comparisons. Stat Med
        2013;32:5414-29.
        """
        rows = []
        for i, a in enumerate(self.treatments):
            for b in self.treatments[i + 1:]:
                rows.append(self._split_one(a, b, model))
        return rows

    def _split_one(self, a: str, b: str, model: str) -> SplitRow:
        nma, nse = self.effect(a, b, model)
        d = self.direct(a, b, model)
        if d is None:
            return SplitRow(a, b, 0, 0.0, nma, nse, None, None, nma, nse, None, None, None)
        vn, vd = nse**2, d.se**2
        prop = min(1.0, vn / vd)
        if prop >= 1 - 1e-9:
            return SplitRow(a, b, d.k, 1.0, nma, nse, d.estimate, d.se, None, None, None, None, None)
        vi = 1 / (1 / vn - 1 / vd)
        ind = vi * (nma / vn - d.estimate / vd)
        diff = d.estimate - ind
        z = diff / math.sqrt(vd + vi)
        return SplitRow(a, b, d.k, prop, nma, nse, d.estimate, d.se, ind, math.sqrt(vi), diff, z,
                        2 * _norm_sf(abs(z)))

    def decomposition(self) -> DesignDecomposition:
        """Q = Q_within designs + Q_between designs, and Q_between under the full design-by-treatment
        interaction random-effects model (tau^2 estimated from the within-design residuals).

        References
        ----------
        Krahn U, Binder H, König J. A graphical tool for locating inconsistency
        in network meta-analyses. BMC Med Res Methodol 2013;13:35.
        Higgins JPT, Jackson D, Barrett JK, Lu G, Ades AE, White IR. Consistency
        and inconsistency in network meta-analysis: concepts and models for
        multi-arm studies. Res Synth Methods 2012;3:98-110.
        """
        data = self._data()
        designs = data.designs()
        per, q_w, df_w, hat_w, w_w = self._within(data, designs, 0.0)
        tau2_w = _tau2_moment(data, hat_w, w_w, q_w, df_w)
        q_tot_re = _q(data, _solve(data, data.var + tau2_w))
        q_w_re = self._within(data, designs, tau2_w)[1]
        df_b = self.df - df_w
        return DesignDecomposition(
            q_total=self.q, df_total=self.df, p_total=_chi2_sf(self.q, self.df),
            q_within=q_w, df_within=df_w, p_within=_chi2_sf(q_w, df_w),
            q_between=self.q - q_w, df_between=df_b, p_between=_chi2_sf(self.q - q_w, df_b),
            per_design=tuple(per), tau2_within=tau2_w, q_between_random=max(0.0, q_tot_re - q_w_re),
            p_between_random=_chi2_sf(max(0.0, q_tot_re - q_w_re), df_b))

    @staticmethod
    def _within(data: Contrasts, designs: dict[tuple[str, ...], list[str]], add: float
                ) -> tuple[list[tuple[str, float, int, float | None]], float, int,
                           NDArray[np.float64], NDArray[np.float64]]:
        """Separate common-effect fits per design: per-design Q, their sum and the block hat matrix."""
        per: list[tuple[str, float, int, float | None]] = []
        hat = np.zeros((data.m, data.m))
        w = np.zeros(data.m)
        q_sum, df_sum = 0.0, 0
        for design, studies in sorted(designs.items()):
            rows = data.rows(studies)
            sub = data.subset(rows)
            fit = _solve(sub, sub.var + add)
            q, df = _q(sub, fit), sub.df()
            hat[np.ix_(rows, rows)] = fit.hat
            w[rows] = fit.w
            q_sum += q
            df_sum += df
            per.append((":".join(design), q, df, _chi2_sf(q, df)))
        return per, q_sum, df_sum, hat, w

    def league(self, model: str = "random", order: Sequence[str] | None = None) -> list[list[dict[str, float] | None]]:
        """League table: cell [i][j] (i != j) holds the network estimate of ``order[j]`` vs ``order[i]``
        below the diagonal and the direct estimate of ``order[i]`` vs ``order[j]`` above it (None where
        no study compared them), each with its 95% CI; the diagonal is None. This is netmeta's
        ``netleague`` layout.
        """
        names = list(order) if order is not None else list(self.treatments)
        out: list[list[dict[str, float] | None]] = []
        for i, row in enumerate(names):
            cells: list[dict[str, float] | None] = []
            for j, col in enumerate(names):
                if i == j:
                    cells.append(None)
                elif i > j:
                    est, se = self.effect(col, row, model)
                    cells.append({"estimate": est, "lower": est - Z95 * se, "upper": est + Z95 * se})
                else:
                    d = self.direct(row, col, model)
                    cells.append(None if d is None else {"estimate": d.estimate, "lower": d.estimate - Z95 * d.se,
                                                         "upper": d.estimate + Z95 * d.se})
            out.append(cells)
        return out

    def contributions(self, a: str, b: str, model: str = "random") -> dict[str, float]:
        """Share of each study in the network estimate of ``a`` vs ``b``: the absolute weights of the
        estimate's row of the hat matrix, summed per study and normalised to 1 (an approximation to the
        evidence-flow contribution matrix; Papakonstantinou et al. 2018)."""
        data = self._data()
        fit = self._fit(model)
        i, j = self.treatments.index(a), self.treatments.index(b)
        row = (fit.lplus[i] - fit.lplus[j]) @ data.bmat.T * fit.w
        weights: dict[str, float] = {}
        for k, s in enumerate(data.study):
            weights[s] = weights.get(s, 0.0) + abs(float(row[k]))
        total = sum(weights.values())
        return {s: v / total for s, v in sorted(weights.items()) if total > 0 and v / total > 1e-9}


def network_meta_analysis(te: Sequence[float], se: Sequence[float], treat1: Sequence[str], treat2: Sequence[str],
                          study: Sequence[str], *, small_values_good: bool = True) -> NMAResult:
    """Common- and random-effects NMA of contrasts with DerSimonian-Laird tau^2.

    Parameters
    ----------
    te, se : contrast estimates (treat1 - treat2, e.g. log HR of treat1 vs
        treat2) and standard errors.
    treat1, treat2, study : treatment labels and study label per contrast. A
        multi-arm study must give all k(k-1)/2 of its contrasts.
    small_values_good : for P-scores (True for log hazard ratios).

    Assumptions: consistency (direct and indirect evidence estimate the same
    effect), a common heterogeneity variance for every comparison, normal
    likelihood for the contrasts, and (for HRs) proportional hazards within
    each trial.

    References
    ----------
    Rücker G. Network meta-analysis, electrical networks and graph theory.
    Res Synth Methods 2012;3:312-24.
    Rücker G, Schwarzer G. Reduce dimension or reduce weights? Comparing two
    approaches to multi-arm studies in network meta-analysis. Stat Med
    2014;33:4353-69.
    DerSimonian R, Laird N. Meta-analysis in clinical trials. Control Clin
    Trials 1986;7:177-88.
    Balduzzi S, Rücker G, Nikolakopoulou A, et al. netmeta: an R package for
    network meta-analysis using frequentist methods. J Stat Softw 2023;106(2).
    """
    data = _check(te, se, treat1, treat2, study)
    common = _solve(data, data.var)
    q = _q(data, common)
    df = data.df()
    tau2 = _tau2_moment(data, common.hat, common.w, q, df)
    random = _solve(data, data.var + tau2) if tau2 > 0 else common
    i2 = max(0.0, (q - df) / q) if df > 0 and q > 0 else 0.0
    notes = []
    if df == 0:
        notes.append("no degrees of freedom for heterogeneity: tau^2 set to 0")
    return NMAResult(treatments=list(data.treatments), common=common, random=random, q=q, df=df, tau2=tau2, i2=i2,
                     n_studies=len(data.studies()), n_contrasts=data.m, small_values_good=small_values_good,
                     notes=notes, data=data)
