"""Continue-the-regimen options, CNS events and which exclusion the answer shows.

Written from the clinic's requirements, after the metamorphic suite and the third independent batch found:
local therapy lost whole when one continuing drug had to stop (LVEF), endocrine drugs continued in
HR-negative disease, a CNS event at a later line with no systemic option left, a GnRH agonist added by the
OFS gate without its label checks, a formulary stop hidden behind another rule's "not indicated".
"""

from __future__ import annotations

from mbcpath.domain.validation import parse_patient
from mbcpath.engine.core import recommend

from ._patients import base, cns_event, maintenance_after_thp, tdxd_first_line_ongoing, thp_induction


def run(kb, raw):
    return recommend(parse_patient(raw), kb)


def option(rec, regimen_id):
    return next((o for o in rec.options if o.regimen_id == regimen_id), None)


def drugs(o):
    return {c.drug for c in o.components if c.drug}


def test_lvef_fall_holds_the_antibodies_but_keeps_local_therapy(kb):
    """LVEF 45% after a 15-point fall on HP + letrozole with isolated brain progression: radiosurgery still
    stands; trastuzumab and pertuzumab are held (labels: withhold), letrozole continues."""
    rec = run(kb, cns_event(lvef_percent=45, lvef_baseline_percent=60))
    o = option(rec, "local-therapy-continue")
    assert o is not None and o.rank == 1
    assert drugs(o) == {"letrozole"}
    assert "held: pertuzumab, trastuzumab" in o.name or "held: trastuzumab, pertuzumab" in o.name
    held = [w for w in o.warnings if w.startswith("Hold ")]
    assert {w.split()[1] for w in held} == {"trastuzumab", "pertuzumab"}
    assert any(s.gate == "label:lvef" for s in rec.safety_stops)


def test_nothing_is_held_when_nothing_stops(kb):
    """The same patient with a normal LVEF continues the whole regimen."""
    o = option(run(kb, cns_event()), "local-therapy-continue")
    assert o is not None and drugs(o) == {"trastuzumab", "pertuzumab", "letrozole"}
    assert "held" not in o.name and not any(w.startswith("Hold ") for w in o.warnings)


def test_hr_negative_disease_holds_the_endocrine_drug(kb):
    """ER and PR 0% on re-biopsy while on letrozole: local therapy + HP continues, letrozole is held."""
    o = option(run(kb, cns_event(er_percent=0, pr_percent=0)), "local-therapy-continue")
    assert o is not None and drugs(o) == {"trastuzumab", "pertuzumab"}
    assert any("endocrine therapy has no role" in w for w in o.warnings)


def test_hr_negative_maintenance_offers_no_endocrine_drug(kb):
    """No offered option of an HR-negative patient contains an endocrine drug or a CDK4/6 inhibitor."""
    rec = run(kb, maintenance_after_thp(er_percent=0, pr_percent=0))
    for o in rec.options:
        classes = {c.drug_class.value for c in o.components}
        assert not classes & {"aromatase_inhibitor", "serd", "serm", "cdk46_inhibitor", "ofs"}, o.name


def test_cns_event_after_tdxd_and_tucatinib_still_has_a_cns_active_option(kb):
    """Brain progression on tucatinib + trastuzumab + capecitabine after T-DXd failed, lesions not amenable to
    local therapy (leptomeningeal excluded; extracranial progression): the TKI + capecitabine regimens of ASCO
    brain metastases 9.1 remain, so the answer is not empty."""
    treatments = [
        {**thp_induction(ended=30), "stop_reason": "progression"},
        {"drugs": ["trastuzumab deruxtecan"], "setting": "metastatic", "line": 2, "started_months_ago": 30,
         "ended_months_ago": 14, "stop_reason": "progression"},
        {"drugs": ["tucatinib", "trastuzumab", "capecitabine"], "setting": "metastatic", "line": 3,
         "started_months_ago": 14, "ended_months_ago": None, "stop_reason": None},
    ]
    rec = run(kb, cns_event(treatments=treatments, metastatic_diagnosis_months_ago=40, decision_point="cns_event",
                            extracranial_progression=True))
    offered = {o.regimen_id for o in rec.options}
    assert offered & {"neratinib-capecitabine", "lapatinib-capecitabine"}, offered
    assert "tdxd" not in offered


def test_cns_event_with_leptomeningeal_disease_only_is_accepted(kb):
    """A stated CNS event with leptomeningeal disease and no parenchymal metastases is valid input, and the
    leptomeningeal-directed option is offered."""
    raw = cns_event(brain_metastases="none", metastatic_sites=["bone", "leptomeningeal"], decision_point="cns_event")
    rec = run(kb, raw)
    assert option(rec, "leptomeningeal-local-therapy") is not None


def test_gnrh_agonist_added_by_the_ofs_gate_is_checked_against_its_label(kb):
    """Premenopausal on an aromatase inhibitor: the GnRH agonist the OFS gate adds carries its own label
    warnings (QT prolongation with QTcF 470 ms), like any drug of the regimen."""
    rec = run(kb, maintenance_after_thp(menopausal_status="premenopausal", age_years=42, qtcf_ms=470))
    with_ofs = [o for o in rec.options if any(c.drug_class.value == "ofs" for c in o.components)]
    assert with_ofs
    for o in with_ofs:
        assert any(("goserelin" in w or "leuprorelin" in w or "triptorelin" in w) and "QT" in w for w in o.warnings), \
            o.name


def test_formulary_stop_is_the_exclusion_shown(kb):
    """Pertuzumab unavailable after first-line T-DXd + pertuzumab: T-DXd continues alone, and T-DXd +
    pertuzumab is listed as excluded for availability, not as 'not indicated' by another rule."""
    rec = run(kb, tdxd_first_line_ongoing(unavailable_drugs=["pertuzumab"]))
    assert option(rec, "tdxd") is not None
    ex = next(e for e in rec.excluded if e.regimen_id == "tdxd-pertuzumab")
    assert ex.kind == "availability"


def test_fulvestrant_unavailable_is_an_availability_stop(kb):
    """A CDK4/6 regimen whose fulvestrant is not on the formulary is stopped for availability (the
    'CDK4/6 needs endocrine therapy' rule is moot once the partner itself is unavailable)."""
    rec = run(kb, base(unavailable_drugs=["fulvestrant"]))
    for e in rec.excluded:
        if e.regimen_id == "abemaciclib-fulvestrant-trastuzumab":
            assert e.kind in ("availability", "not_indicated")
            assert "cdk46-needs-endocrine" not in e.gates
