"""Published numbers added or corrected in KB release 2026.12.0, asserted against their sources.

Each expected value was read in the source named in the record (see kb/sources/trials-3.yaml and the
2026.12.0 notes); a change to any of them must come with a new source.
"""

from __future__ import annotations

import pytest


def _ep(kb, trial, endpoint, engine=True, **match):
    t = kb.trial(trial)
    hits = [e for e in t.endpoints if e.endpoint == endpoint and (e.engine_uses or not engine)
            and all(getattr(e, k) == v for k, v in match.items())]
    assert len(hits) == 1, (trial, endpoint, [e.analysis for e in hits])
    return hits[0]


def test_her2climb02_primary_pfs_and_interim_os(kb):
    """Hurvitz, Ann Oncol 2025 (doi 10.1016/j.annonc.2025.11.005): PFS 9.5 vs 7.4, HR 0.76 (0.61-0.95);
    interim OS HR 1.23 (0.87-1.74)."""
    t = kb.trial("HER2CLIMB-02")
    assert t.publications[0].doi == "10.1016/j.annonc.2025.11.005"
    pfs = _ep(kb, "HER2CLIMB-02", "pfs")
    assert pfs.medians == {"tucatinib_tdm1": 9.5, "placebo_tdm1": 7.4}
    assert (pfs.hr, pfs.hr_ci95) == (0.76, (0.61, 0.95))
    os_ = _ep(kb, "HER2CLIMB-02", "os")
    assert (os_.hr, os_.hr_ci95, os_.analysis_type) == (1.23, (0.87, 1.74), "interim")
    assert {a.regimen for a in t.arms} == {"tucatinib-tdm1", "tdm1"}


def test_destiny_breast09_24_month_pfs(kb):
    """Tolaney NEJM 2025: 24-month PFS 70.1% vs 52.1% (the projections work reads it)."""
    e = _ep(kb, "DB-09", "pfs_rate")
    assert e.rates == {"tdxd_p": 70.1, "thp": 52.1} and e.rate_at_months == 24


def test_destiny_breast05_idfs(kb):
    """Geyer NEJM 2025: IDFS HR 0.47 (0.34-0.66); 3-year IDFS 92.4% vs 83.7%."""
    e = _ep(kb, "DB-05", "idfs")
    assert (e.hr, e.hr_ci95) == (0.47, (0.34, 0.66))
    assert _ep(kb, "DB-05", "idfs_rate").rates == {"tdxd": 92.4, "tdm1": 83.7}
    assert all(a.regimen is None and a.drugs for a in kb.trial("DB-05").arms)


def test_destiny_breast11_pcr(kb):
    """Harbeck Ann Oncol 2025: pCR 67.3% (T-DXd-THP) vs 56.3% (ddAC-THP)."""
    e = _ep(kb, "DB-11", "pcr")
    assert e.rates["tdxd_thp"] == 67.3 and e.rates["ddac_thp"] == 56.3


@pytest.mark.parametrize(("trial", "endpoint", "hr", "ci"), [
    ("NALA", "pfs", 0.76, (0.63, 0.93)),
    ("NALA", "os", 0.88, (0.72, 1.07)),
    ("SOPHIA", "pfs", 0.76, (0.59, 0.98)),
    ("SOPHIA", "os", 0.95, (0.77, 1.17)),
    ("EGF104900", "pfs", 0.74, (0.58, 0.94)),
    ("EGF104900", "os", 0.74, (0.57, 0.97)),
    ("GBG-26", "ttp", 0.69, (0.48, 0.97)),
    ("PHOEBE", "pfs", 0.39, (0.27, 0.56)),
    ("EGF100151", "ttp", 0.57, (0.43, 0.77)),
])
def test_own_trial_hazard_ratios(kb, trial, endpoint, hr, ci):
    """Hazard ratios of the regimens' own trials, as their publications print them."""
    e = _ep(kb, trial, endpoint)
    assert (e.hr, e.hr_ci95) == (hr, ci)


def test_eortc_75111_pfs(kb):
    """Wildiers: median PFS 12.7 (TPM) vs 5.6 (TP) months; 6-month PFS 73.4% vs 46.2%."""
    assert _ep(kb, "EORTC 75111", "pfs").medians == {"tpm": 12.7, "tp": 5.6}
    assert _ep(kb, "EORTC 75111", "pfs_rate").rates == {"tpm": 73.4, "tp": 46.2}


def test_alternative_uses_the_corrected_paper(kb):
    """The engine's ALTERNATIVE numbers rest on the corrected paper, never on the retracted one alone."""
    t = kb.trial("ALTERNATIVE")
    used = [e for e in t.endpoints if e.engine_uses]
    assert used and all(any(not kb.sources[k].retracted for k in e.sources) for e in used)
    primary = next(e for e in used if "lapatinib-trastuzumab-ai" in e.arms)
    assert (primary.hr, primary.p) == (0.62, "0.0063")
    assert kb.sources["ALT-1"].retracted and "10.1200/JCO.20.02029" in kb.sources["ALT-1"].retraction_notice


def test_every_offered_regimen_named_in_the_issue_has_its_own_trial(kb):
    """Issue 8 class 5: each regimen lists its own trial (an arm of exactly that regimen)."""
    own = {"neratinib-capecitabine": "NALA", "margetuximab-chemotherapy": "SOPHIA",
           "lapatinib-trastuzumab": "EGF104900", "hp-metronomic-cyclophosphamide": "EORTC 75111",
           "tucatinib-tdm1": "HER2CLIMB-02", "lapatinib-capecitabine": "EGF100151",
           "capecitabine-trastuzumab": "GBG-26", "tdm1": "TH3RESA", "pyrotinib-capecitabine": "PHOEBE"}
    for regimen, trial in own.items():
        assert trial in kb.regimens[regimen].trials, (regimen, trial)
        assert any(a.regimen == regimen for a in kb.trials[trial].arms)
