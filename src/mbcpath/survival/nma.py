"""Frequentist network meta-analysis of contrasts (e.g. log hazard ratios).

The graph-theoretical model of Rücker (2012), as in R netmeta: weighted least
squares on the contrasts with the edge-vertex incidence matrix, netmeta's
adjustment of multi-arm studies (so that the graph solution equals GLS with
correlated contrasts), the DerSimonian-Laird generalisation of tau^2, common
and random effects, Cochran's Q, I^2 and P-scores. Written from the formulas
(the project's evidence-synthesis reference, section 3.1), not from netmeta's
GPL source.

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

__all__ = ["NMAResult", "network_meta_analysis"]


@dataclass
class _Fit:
    theta: NDArray[np.float64]  # centred treatment effects
    lplus: NDArray[np.float64]
    hat: NDArray[np.float64]
    w: NDArray[np.float64]  # adjusted weights per contrast


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

    @property
    def tau(self) -> float:
        return math.sqrt(self.tau2)

    def _fit(self, model: str) -> _Fit:
        if model not in ("common", "random"):
            raise ModelError(f"model = {model!r}: must be 'common' or 'random'")
        return self.common if model == "common" else self.random

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


def _solve(te: NDArray[np.float64], var: NDArray[np.float64], b: NDArray[np.float64], studies: list[str],
           treat1: list[str], treat2: list[str]) -> _Fit:
    _m, n = b.shape
    v_adj = var.copy()
    by_study: dict[str, list[int]] = {}
    for i, s in enumerate(studies):
        by_study.setdefault(s, []).append(i)
    for rows in by_study.values():
        if len(rows) > 1:
            arms = sorted({treat1[i] for i in rows} | {treat2[i] for i in rows})
            v_adj[rows] = _multiarm_weights(var[rows], arms, [(treat1[i], treat2[i]) for i in rows])
    w = 1.0 / v_adj
    lap = b.T @ (w[:, None] * b)
    j = np.ones((n, n)) / n
    lplus = np.linalg.inv(lap - j) + j
    hat = b @ lplus @ b.T * w[None, :]
    theta = lplus @ b.T @ (w * te)
    return _Fit(theta=theta, lplus=lplus, hat=hat, w=w)


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
    Jackson D, White IR, Riley RD. Quantifying the impact of between-study
    heterogeneity in multivariate meta-analyses. Stat Med 2012;31:3805-20.
    """
    y = np.asarray(te, dtype=np.float64)
    s = np.asarray(se, dtype=np.float64)
    t1, t2, st = [str(x) for x in treat1], [str(x) for x in treat2], [str(x) for x in study]
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
    for a, b_ in zip(t1, t2, strict=True):
        if a == b_:
            raise ModelError(f"treat1 = treat2 = {a!r}: a contrast must compare two different treatments")
    treatments = sorted(set(t1) | set(t2))
    n = len(treatments)
    idx = {t: i for i, t in enumerate(treatments)}
    bmat = np.zeros((m, n))
    for r, (a, b_) in enumerate(zip(t1, t2, strict=True)):
        bmat[r, idx[a]] = 1.0
        bmat[r, idx[b_]] = -1.0
    # connectivity
    adj = (np.abs(bmat.T) @ np.abs(bmat)) > 0
    seen = {0}
    stack = [0]
    while stack:
        u = stack.pop()
        for v in np.nonzero(adj[u])[0]:
            if int(v) not in seen:
                seen.add(int(v))
                stack.append(int(v))
    if len(seen) != n:
        missing = [treatments[i] for i in range(n) if i not in seen]
        raise ModelError(f"treatments {missing}: not connected to the rest of the network; analyse "
                         "sub-networks separately")
    studies = sorted(set(st))
    arms_per_study = {x: {a for a, b_, z in zip(t1, t2, st, strict=True) if z == x} |
                      {b_ for a, b_, z in zip(t1, t2, st, strict=True) if z == x} for x in studies}
    for x in studies:
        k = len(arms_per_study[x])
        n_rows = sum(1 for z in st if z == x)
        if n_rows != k * (k - 1) // 2:
            raise ModelError(f"study = {x!r}: {n_rows} contrasts for {k} arms; a multi-arm study must give "
                             f"all {k * (k - 1) // 2} pairwise contrasts")
    var = s**2
    common = _solve(y, var, bmat, st, t1, t2)
    resid = y - common.hat @ y
    q = float(resid @ (common.w * resid))
    df = sum(len(arms_per_study[x]) - 1 for x in studies) - (n - 1)
    same = np.array([[st[i] == st[j] for j in range(m)] for i in range(m)], dtype=np.float64)
    denom = float(np.trace((np.eye(m) - common.hat) @ ((bmat @ bmat.T) * same / 2) @ np.diag(common.w)))
    tau2 = max(0.0, (q - df) / denom) if df > 0 and denom > 0 else 0.0
    random = _solve(y, var + tau2, bmat, st, t1, t2) if tau2 > 0 else common
    i2 = max(0.0, (q - df) / q) if df > 0 and q > 0 else 0.0
    notes = []
    if df == 0:
        notes.append("no degrees of freedom for heterogeneity: tau^2 set to 0")
    return NMAResult(treatments=treatments, common=common, random=random, q=q, df=df, tau2=tau2, i2=i2,
                     n_studies=len(studies), n_contrasts=m, small_values_good=small_values_good, notes=notes)
