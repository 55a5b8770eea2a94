"""A Recommendation built by hand with every engine-v2 field filled (tiers, summaries, chemotherapy-free flags,
unknown data, direct/indirect support, safety stops, trial matches, provisional, as_of), so the board, the
pages and the report are tested before the engine fills them."""

from __future__ import annotations

from mbcpath.domain.recommendation import (
    Component,
    Criterion,
    EndpointSummary,
    EvidenceRef,
    Excluded,
    GuidelineRef,
    Option,
    Recommendation,
    SafetyStop,
    Tier,
    TrialFit,
    TrialMatch,
)

DB09_PFS = EndpointSummary(endpoint="pfs", analysis="planned interim analysis", arms={"tdxd_p": 40.7, "thp": 26.9},
                           hr=0.56, hr_ci95=(0.44, 0.71),
                           text="PFS (BICR): 40.7 vs 26.9 months (median); HR 0.56 (0.44-0.71) "
                                "[T-DXd + pertuzumab vs THP; planned interim analysis]", sources=["DB09-1"])
CLEO_PFS = EndpointSummary(endpoint="pfs", analysis="primary", arms={"thp": 18.7, "control": 12.4}, hr=0.69,
                           hr_ci95=(0.59, 0.81), text="PFS: 18.7 vs 12.4 months [THP vs TH; primary]",
                           sources=["CLEO-1"])
CLEO_OS = EndpointSummary(endpoint="os", analysis="end of study", arms={"thp": 57.1, "control": 40.8}, hr=0.69,
                          hr_ci95=(0.58, 0.82), text="OS: 57.1 vs 40.8 months [THP vs TH; end of study]",
                          sources=["CLEO-4"])


def handbuilt() -> Recommendation:
    """Three options (T-DXd + P, THP, HP + AI), an LVEF stop, a label warning and three trial matches."""
    fits = TrialFit(fits=True, criteria=[Criterion(id="her2", text="HER2-positive", status="met")])
    unknown_fit = TrialFit(fits=None, criteria=[Criterion(id="lvef", text="LVEF >= 50%", status="unknown")])
    tdxd = Option(
        rank=1, category="preferred", regimen_id="tdxd-pertuzumab", name="Trastuzumab deruxtecan + pertuzumab",
        components=[Component(drug="trastuzumab deruxtecan", **{"class": "her2_adc"}),
                    Component(drug="pertuzumab", **{"class": "anti_her2_antibody"})],
        rationale=["Longer PFS than THP."], summary="Longest PFS in first line; ILD risk needs monitoring.",
        tier=Tier(label="preferred", statements=["nccn-fl-1"], text="NCCN 2026: preferred, category 1"),
        evidence=[EvidenceRef(trial="DESTINY-Breast09", support="direct", endpoints=[DB09_PFS], fit=fits,
                              toxicity="Neutropenia (>=3): 23.9% vs 33.2%", role="pivotal")],
        depends_on_unknown=["LVEF (no echocardiogram in the record)"],
        guidelines=[GuidelineRef(id="nccn-fl-1", body="NCCN", statement="Preferred", rating="category 1",
                                 date="2026-01", sources=["NCCN-1"])],
    )
    thp = Option(
        rank=2, category="preferred", regimen_id="thp", name="Taxane + trastuzumab + pertuzumab (THP)",
        components=[Component(drug=None, **{"class": "taxane"}, name="taxane", choices=["docetaxel", "paclitaxel"]),
                    Component(drug="trastuzumab", **{"class": "anti_her2_antibody"}),
                    Component(drug="pertuzumab", **{"class": "anti_her2_antibody"})],
        rationale=["Mature OS benefit."], tier=Tier(label="other_recommended", statements=[], text=""),
        evidence=[EvidenceRef(trial="CLEOPATRA", support="direct", endpoints=[CLEO_PFS, CLEO_OS], fit=unknown_fit),
                  EvidenceRef(trial="DESTINY-Breast09", support="direct", endpoints=[DB09_PFS], fit=fits)],
        warnings=["Peripheral neuropathy grade 1: taxane dose as tolerated"],
    )
    hpai = Option(
        rank=3, category="selected_patients", regimen_id="hp-ai", name="Trastuzumab + pertuzumab + aromatase inhibitor",
        components=[Component(drug="trastuzumab", **{"class": "anti_her2_antibody"}),
                    Component(drug="pertuzumab", **{"class": "anti_her2_antibody"}),
                    Component(drug=None, **{"class": "aromatase_inhibitor"}, name="aromatase inhibitor",
                              choices=["letrozole", "anastrozole"])],
        rationale=["Chemotherapy-free."], chemotherapy_free=True,
        evidence=[EvidenceRef(trial="SYSUCC-002", support="indirect", basis="HP + AI extrapolated from H + ET",
                              endpoints=[], fit=fits)],
    )
    return Recommendation(
        patient_id="handbuilt-01", kb_release="2026.11.0", engine_version="0.2.0", decision_point="first_line",
        decision_point_basis="No systemic therapy for metastatic disease yet.",
        options=[tdxd, thp, hpai],
        excluded=[Excluded(regimen_id="lapatinib-capecitabine", name="Lapatinib + capecitabine", kind="safety",
                           gates=["label-qtc-lapatinib"], reasons=["QTcF 480 ms: lapatinib label"])],
        conflicts=["T-DXd + pertuzumab vs THP is a clinical judgement."],
        missing_data=["LVEF unknown: obtain an echocardiogram."],
        safety_stops=[SafetyStop(gate="label-qtc-lapatinib", severity="stop", text="QTcF 480 ms: lapatinib is not "
                                 "started (label 5.3)", drugs=["lapatinib"], sources=["LAP-1"]),
                      SafetyStop(gate="label-ild-tdxd", severity="warning", text="ILD grade 1 history: monitor",
                                 drugs=["trastuzumab deruxtecan"])],
        trial_matches=[
            TrialMatch(trial="DEMETHER", nct="NCT06172127", phase="II", status="recruiting", verdict="eligible",
                       title="T-DXd then HP"),
            TrialMatch(trial="heredERA", nct="NCT05296798", phase="III", status="active, not recruiting",
                       verdict="not_eligible", reasons=["not met: ER-positive (ER 0%)"]),
            TrialMatch(trial="EmpowHER-BC-303", nct=None, status="recruiting", verdict="unknown",
                       criteria=[Criterion(id="lvef", text="LVEF >= 50% (datum: LVEF)", status="unknown")]),
        ],
        provisional=True, as_of="2026-11-30",
    )
