"""Fitted models as a reproducible artefact of the KB release (``mbcpath kb build-fits``).

Every curve the projections can draw rests on a fit: families fitted to a
trial's published summary points (:mod:`~mbcpath.survival.summary_fit`) or to
bundled reconstructed patient-level data (:mod:`~mbcpath.survival.ipd`). Fitting
takes seconds (the CLEOPATRA patient-level fits about ten), so it never happens
on a request: ``build_fits(kb)`` fits every analysis of every trial once and
``write_fits`` stores the results (each family's AIC, BIC, log-likelihood,
parameters and covariance, and the inputs' hash) in
``mbcpath/survival/data/fits.json``, which is checked in. At run time
``FitStore`` rebuilds the distributions from that file; an analysis whose inputs
changed since the file was built is refitted when the store is built (at
start-up, off the request path) and reported as stale. A test fits everything
again and compares with the file.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from mbcpath.errors import ModelError
from mbcpath.survival.distributions import (
    Distribution,
    Exponential,
    GeneralizedGamma,
    Gompertz,
    LogLogistic,
    LogNormal,
    PiecewiseExponential,
    Weibull,
)
from mbcpath.survival.evidence import ENDPOINTS, Analysis, landmark_records
from mbcpath.survival.fitting import FitResult
from mbcpath.survival.ipd import IPD_REGISTRY, KmDataset
from mbcpath.survival.summary_fit import SummaryFit, SummaryPoint, fit_summary_all

FORMAT = 1
_CLASSES: dict[str, type[Distribution]] = {"exponential": Exponential, "weibull": Weibull, "lognormal": LogNormal,
                                           "loglogistic": LogLogistic, "gompertz": Gompertz,
                                           "gengamma": GeneralizedGamma}

__all__ = ["FitStore", "IpdFit", "build_fits", "compare_fits", "default_store", "load_fits", "summary_key",
           "write_fits"]


# ----------------------------------------------------------------------------- keys and hashes
def summary_key(analysis: Analysis, reference: str, other: str | None) -> str:
    mode = f"joint:{reference},{other}" if other else f"single:{reference}"
    return f"{analysis.key}|{mode}"


def _points_hash(points: Iterable[SummaryPoint]) -> str:
    text = json.dumps([[p.kind, p.arm, round(p.value, 10), round(p.se, 10), p.t] for p in points])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _ipd_hash(ds: KmDataset) -> str:
    from mbcpath.survival.ipd import load_kmdata

    t, e = load_kmdata(ds.file)
    return hashlib.sha256(np.round(t, 8).tobytes() + e.tobytes()).hexdigest()[:16]


# ----------------------------------------------------------------------------- serialisation
def _f(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 10)


def _summary_entry(points: list[SummaryPoint], fits: list[SummaryFit]) -> dict[str, Any]:
    return {
        "inputs_hash": _points_hash(points),
        "points": [p.label for p in points],
        "chosen": fits[0].family,
        "families": [{"family": f.family, "aic": _f(f.aic), "bic": _f(f.bic), "loglik": _f(f.loglik),
                      "theta": [_f(x) for x in f.theta],
                      "cov": None if f.cov is None else [[_f(x) for x in row] for row in f.cov],
                      "two_arms": f.two_arms, "n_points": f.n_points, "residuals": f.residuals} for f in fits],
    }


def _summary_from_entry(entry: Mapping[str, Any]) -> list[SummaryFit]:
    out = []
    for f in entry["families"]:
        cov = None if f["cov"] is None else np.array(f["cov"], dtype=np.float64)
        out.append(SummaryFit(family=f["family"], theta=np.array(f["theta"], dtype=np.float64), cov=cov,
                              loglik=f["loglik"], aic=f["aic"], bic=f["bic"], n_points=f["n_points"],
                              two_arms=f["two_arms"], residuals=[tuple(r) for r in f["residuals"]]))
    return out


@dataclass
class IpdFit:
    """Families fitted to one arm of a bundled reconstructed dataset, best AIC first."""

    dataset: KmDataset
    arm: str
    fits: list[FitResult]
    max_time: float
    n: int
    events: int

    @property
    def best(self) -> FitResult:
        return self.fits[0]


def _ipd_entry(fit: IpdFit, inputs_hash: str) -> dict[str, Any]:
    rows = []
    for r in fit.fits:
        d = r.dist
        rows.append({"family": r.family, "label": _family_label(r), "aic": _f(r.aic), "bic": _f(r.bic),
                     "loglik": _f(r.loglik), "theta": [_f(x) for x in r.theta],
                     "breaks": list(d.breaks) if isinstance(d, PiecewiseExponential) else None,
                     "cov": None if r.cov is None else [[_f(x) for x in row] for row in r.cov]})
    return {"inputs_hash": inputs_hash, "file": fit.dataset.file, "arm": fit.arm, "n": fit.n, "events": fit.events,
            "max_time": _f(fit.max_time), "chosen": rows[0]["label"], "families": rows}


def _family_label(r: FitResult) -> str:
    d = r.dist
    return f"piecewise exponential, {len(d.breaks) + 1} pieces" if isinstance(d, PiecewiseExponential) else r.family


def _ipd_from_entry(ds: KmDataset, entry: Mapping[str, Any]) -> IpdFit:
    fits = []
    for f in entry["families"]:
        theta = np.array(f["theta"], dtype=np.float64)
        if f["breaks"] is not None:
            dist: Distribution = PiecewiseExponential(f["breaks"], np.exp(theta).tolist())
        else:
            dist = _CLASSES[f["family"]].from_theta(theta)
        cov = None if f["cov"] is None else np.array(f["cov"], dtype=np.float64)
        fits.append(FitResult(dist, f["family"], theta, cov, f["loglik"], f["aic"], f["bic"], n=entry["n"],
                              events=entry["events"], basis=f"{f['label']} maximum-likelihood fit to {entry['n']} "
                                                           f"patients ({entry['events']} events)"))
    return IpdFit(ds, entry["arm"], fits, float(entry["max_time"]), int(entry["n"]), int(entry["events"]))


# ----------------------------------------------------------------------------- fitting
def fit_ipd_arm(ds: KmDataset, arm: str) -> IpdFit:
    """Standard families and piecewise exponentials (4, 6, 8 pieces at event-time quantiles), best AIC first.

    References
    ----------
    Latimer N. NICE DSU TSD 14 (2011): compare the standard families by AIC/BIC.
    Rutherford MJ, Lambert PC, Sweeting MJ, et al. NICE DSU TSD 21 (2020):
    piecewise models.
    """
    from mbcpath.survival.fitting import fit_all, fit_ipd
    from mbcpath.survival.ipd import load_kmdata

    t, e = load_kmdata(ds.file, arm)
    fits = fit_all(t, e, label=f"kmdata {ds.file} arm {arm}")
    for k in (4, 6, 8):
        ev = np.sort(t[e == 1])
        breaks = sorted({round(float(q), 2) for q in np.quantile(ev, np.linspace(0, 1, k + 1)[1:-1]) if q > 0})
        try:
            fits.append(fit_ipd(t, e, "pwexp", breakpoints=breaks, label=f"kmdata {ds.file} arm {arm}"))
        except ModelError:
            continue
    fits.sort(key=lambda r: r.aic if r.aic is not None else math.inf)
    return IpdFit(ds, arm, fits, float(t.max()), int(t.size), int(e.sum()))


def _summary_jobs(kb: Any) -> Iterable[tuple[str, list[SummaryPoint]]]:
    """Every (key, points) the projections may ask for: each PFS/OS record of each trial, jointly for
    two-arm records with an HR (both orientations share one fit: the control arm is the reference) and
    per arm alone."""
    for trial in sorted(kb.trials.values(), key=lambda t: t.id):
        for rec in trial.endpoints:
            if rec.endpoint not in ENDPOINTS or not rec.arms:
                continue
            an = Analysis(trial, rec, landmark_records(trial, rec))
            if len(rec.arms) == 2 and rec.hr is not None and rec.hr_ci95 is not None:
                ref, other = rec.arms[1], rec.arms[0]
                yield summary_key(an, ref, other), an.points(ref, other)
            for arm in rec.arms:
                yield summary_key(an, arm, None), an.points(arm, None)


def build_fits(kb: Any) -> dict[str, Any]:
    """Fit every analysis of the KB (summary points and bundled patient-level data): the artefact's content."""
    summary: dict[str, Any] = {}
    for key, pts in _summary_jobs(kb):
        if key in summary or not pts:
            continue
        try:
            summary[key] = _summary_entry(pts, fit_summary_all(pts))
        except ModelError as err:
            summary[key] = {"inputs_hash": _points_hash(pts), "points": [p.label for p in pts], "error": str(err)}
    ipd: dict[str, Any] = {}
    for ds in sorted(set(IPD_REGISTRY.values()), key=lambda d: d.file):
        for arm in (ds.experimental, ds.control):
            ipd[f"{ds.file}|{arm}"] = _ipd_entry(fit_ipd_arm(ds, arm), _ipd_hash(ds))
    return {"format": FORMAT, "kb_release": kb.release.kb_release,
            "note": "written by `mbcpath kb build-fits`; do not edit by hand", "summary": summary, "ipd": ipd}


def write_fits(kb: Any, path: str | Path | None = None) -> Path:
    """Build and write the artefact (default: the package's ``data/fits.json``)."""
    out = Path(path) if path is not None else _package_path()
    content = build_fits(kb)
    out.write_text(json.dumps(content, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    with _LOAD_LOCK:
        _LOADED.clear()
    return out


def _package_path() -> Path:
    return Path(str(resources.files("mbcpath.survival").joinpath("data").joinpath("fits.json")))


_LOAD_LOCK = threading.Lock()
_LOADED: dict[str, dict[str, Any]] = {}


def load_fits(path: str | Path | None = None) -> dict[str, Any]:
    """The artefact's content (read once per path; an absent file gives an empty artefact)."""
    key = str(path) if path is not None else "<package>"
    with _LOAD_LOCK:
        if key not in _LOADED:
            p = Path(path) if path is not None else _package_path()
            try:
                _LOADED[key] = json.loads(p.read_text(encoding="utf-8"))
            except FileNotFoundError:
                _LOADED[key] = {"format": FORMAT, "summary": {}, "ipd": {}}
        return _LOADED[key]


def compare_fits(stored: Mapping[str, Any], fresh: Mapping[str, Any], *, tol: float = 1e-4) -> list[str]:
    """Differences between two artefacts: missing or extra analyses, another chosen model, AIC or
    parameters off by more than ``tol`` (relative for AIC/BIC, absolute for parameters)."""
    out: list[str] = []
    for part in ("summary", "ipd"):
        a, b = stored.get(part, {}), fresh.get(part, {})
        out += [f"{part} {k}: missing from the stored file" for k in sorted(set(b) - set(a))]
        out += [f"{part} {k}: stored but no longer in the KB" for k in sorted(set(a) - set(b))]
        for k in sorted(set(a) & set(b)):
            out += _compare_entry(f"{part} {k}", a[k], b[k], tol)
    return out


def _compare_entry(where: str, a: Mapping[str, Any], b: Mapping[str, Any], tol: float) -> list[str]:
    if a.get("inputs_hash") != b.get("inputs_hash"):
        return [f"{where}: inputs changed (rebuild with `mbcpath kb build-fits`)"]
    if ("error" in a) != ("error" in b):
        return [f"{where}: fit succeeded in one and failed in the other"]
    if "error" in a:
        return []
    if a["chosen"] != b["chosen"]:
        return [f"{where}: chosen model {a['chosen']} stored, {b['chosen']} refitted"]
    out = []
    fb = {f.get("label", f["family"]): f for f in b["families"]}
    for fa in a["families"]:
        other = fb.get(fa.get("label", fa["family"]))
        if other is None:
            out.append(f"{where}: family {fa['family']} missing after refitting")
            continue
        if abs(fa["aic"] - other["aic"]) > tol * max(1.0, abs(fa["aic"])):
            out.append(f"{where} {fa['family']}: AIC {fa['aic']} stored, {other['aic']} refitted")
        if any(abs(x - y) > 10 * tol for x, y in zip(fa["theta"], other["theta"], strict=True)):
            out.append(f"{where} {fa['family']}: parameters {fa['theta']} stored, {other['theta']} refitted")
    return out


# ----------------------------------------------------------------------------- the run-time store
@dataclass
class FitStore:
    """Fits for one KB release, rebuilt from the artefact; thread-safe, and never fits on a lookup
    unless :meth:`prepare` was skipped (then a missing fit is made once and remembered)."""

    artefact: Mapping[str, Any]
    stale: list[str] = field(default_factory=list)
    _summary: dict[str, list[SummaryFit]] = field(default_factory=dict)
    _ipd: dict[str, IpdFit] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def summary(self, analysis: Analysis, reference: str, other: str | None) -> list[SummaryFit]:
        """Families fitted to the analysis's points (best AIC first)."""
        key = summary_key(analysis, reference, other)
        with self._lock:
            if key in self._summary:
                return self._summary[key]
            pts = analysis.points(reference, other)
            entry = self.artefact.get("summary", {}).get(key)
            if entry is not None and entry.get("inputs_hash") == _points_hash(pts):
                if "error" in entry:
                    raise ModelError(entry["error"])
                fits = _summary_from_entry(entry)
            else:
                self.stale.append(f"summary {key}: not in the fits artefact or its inputs changed; fitted now")
                fits = fit_summary_all(pts)
            self._summary[key] = fits
            return fits

    def ipd(self, ds: KmDataset, arm: str) -> IpdFit:
        key = f"{ds.file}|{arm}"
        with self._lock:
            if key in self._ipd:
                return self._ipd[key]
            entry = self.artefact.get("ipd", {}).get(key)
            if entry is not None and entry.get("inputs_hash") == _ipd_hash(ds):
                fit = _ipd_from_entry(ds, entry)
            else:
                self.stale.append(f"ipd {key}: not in the fits artefact or its data changed; fitted now")
                fit = fit_ipd_arm(ds, arm)
            self._ipd[key] = fit
            return fit

    def prepare(self, kb: Any) -> FitStore:
        """Rebuild (or, if stale, fit) every analysis of the KB now, so that no request has to."""
        for key, pts in _summary_jobs(kb):
            if key in self._summary or not pts:
                continue
            try:
                self._summary_by_key(key, pts)
            except ModelError:
                continue
        for ds in set(IPD_REGISTRY.values()):
            for arm in (ds.experimental, ds.control):
                self.ipd(ds, arm)
        return self

    def _summary_by_key(self, key: str, pts: list[SummaryPoint]) -> None:
        with self._lock:
            entry = self.artefact.get("summary", {}).get(key)
            if entry is not None and entry.get("inputs_hash") == _points_hash(pts):
                if "error" in entry:
                    raise ModelError(entry["error"])
                self._summary[key] = _summary_from_entry(entry)
            else:
                self.stale.append(f"summary {key}: not in the fits artefact or its inputs changed; fitted now")
                self._summary[key] = fit_summary_all(pts)


_STORES: dict[tuple[int, str], FitStore] = {}
_STORE_LOCK = threading.Lock()


def default_store(kb: Any, *, prepare: bool = True) -> FitStore:
    """The process-wide store for ``kb`` (one per KB object), prepared on first use."""
    key = (id(kb), getattr(getattr(kb, "release", None), "kb_release", ""))
    with _STORE_LOCK:
        store = _STORES.get(key)
        if store is None:
            store = FitStore(load_fits())
            if prepare:
                store.prepare(kb)
            _STORES[key] = store
        return store
