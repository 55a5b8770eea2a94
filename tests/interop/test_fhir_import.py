"""FHIR import: the official mCODE STU4 examples, the legacy bundles, HER2 rules, staleness, errors."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest

from conftest import load_case, vignette_files
from interop.conftest import MCODE, load
from mbcpath import parse_patient, recommend
from mbcpath.interop.fhir import detect_and_convert, fhir_to_patient
from mbcpath.interop.generator import Style, generate_cases, patient_to_bundle
from mbcpath.interop.outcome import FhirInputError

AS_OF = date(2026, 1, 15)
ANSWERED = [p for p in vignette_files() if not load_case(p)["expect"].get("reject")]
STYLES = [Style(), Style(med_type="MedicationRequest", rx_level="brand", combination_products=True,
                         site_system="icd10", her2_value="answer-code", bundle_type="transaction"),
          Style(med_type="MedicationAdministration", rx_level="clinical", her2_value="string", bundle_type="searchset")]


def _answer(rec):
    return rec.decision_point, [o.regimen_id for o in rec.options]


def _canon(patient):
    data = patient.model_dump(mode="json")
    for t in data["treatments"]:
        t["drugs"] = sorted(t["drugs"])
    return data


@pytest.mark.parametrize("style", range(len(STYLES)), ids=["statement", "request-brand-icd10", "administration"])
@pytest.mark.parametrize("path", ANSWERED, ids=lambda p: p.stem)
def test_vignette_round_trip_gives_the_same_answer(path, style):
    """Contract JSON -> generated Bundle -> contract patient: same patient, decision point and ranked regimens."""
    original = parse_patient(load_case(path)["patient"])
    bundle = patient_to_bundle(load_case(path)["patient"], AS_OF, STYLES[style])
    imported = fhir_to_patient(json.loads(json.dumps(bundle)), AS_OF)
    assert _canon(imported.patient) == _canon(original)
    assert _answer(recommend(imported.patient)) == _answer(recommend(original))


def test_generator_is_seeded_and_its_bundles_round_trip():
    """The same seed gives the same bundles; each imports to its patient's answer."""
    first = list(generate_cases(30, seed=11))
    assert first == list(generate_cases(30, seed=11))
    assert first != list(generate_cases(30, seed=12))
    for patient, bundle in first:
        imported = fhir_to_patient(bundle, date(2026, 1, 1))
        assert _answer(recommend(imported.patient)) == _answer(recommend(parse_patient(patient)))


def test_every_official_stu4_example_parses_or_fails_with_an_operation_outcome(stu4_examples):
    """All 29 mCODE STU4 examples validate as R4; a bundle maps, a lone resource without a Patient is refused."""
    assert len(stu4_examples) == 29
    for path in stu4_examples:
        res = load(path)
        try:
            fhir_to_patient(res, AS_OF)
        except FhirInputError as err:
            oo = err.operation_outcome()
            assert oo["resourceType"] == "OperationOutcome"
            assert oo["issue"][0]["expression"], path.name
            if res["resourceType"] != "Patient":
                assert "no Patient resource" in oo["issue"][0]["details"]["text"] or "Patient" in str(oo)


def test_jenny_m_bundle_maps_with_provenance_and_missing_data():
    """The official breast-cancer bundle: HER2 negative interpretation, PR read as 0%, ER % missing."""
    imported = fhir_to_patient(load(MCODE / "stu4-examples" / "Bundle-mcode-patient-bundle-jenny-m.json"),
                               date(2019, 6, 1))
    p = imported.patient
    assert (p.sex.value, p.age_years, p.ecog, p.her2.status, p.pr_percent) == ("female", 54, 0, "negative", 0.0)
    assert p.er_percent is None
    cited = imported.provenance.fields["her2.status"]
    assert any(s.resource == "Observation/tumor-marker-test-her2-jenny-m" for s in cited)
    assert any("ER percentage" in m for m in imported.missing_data)
    assert recommend(p).out_of_scope


@pytest.mark.parametrize("name", ["TrialMatching_Patient01.json", "TrialMatching_Patient02.json"])
def test_legacy_bundles_fail_on_their_id_then_answer_out_of_scope(name):
    """The legacy bundles' ids break the FHIR id pattern (the OperationOutcome names Bundle.id);
    with the id fixed, the HER2-negative patient is out of scope."""
    bundle = load(MCODE / "ctm-app-stu1-mbc" / name)
    with pytest.raises(FhirInputError) as info:
        fhir_to_patient(bundle, AS_OF)
    issue = info.value.operation_outcome()["issue"][0]
    assert issue["expression"] == ["Bundle.id"] and "pattern" in issue["diagnostics"]
    fixed = dict(bundle, id="fixed")
    imported = fhir_to_patient(fixed, date(2022, 1, 1))
    assert imported.patient.her2.status == "negative"
    rec = recommend(imported.patient)
    assert rec.out_of_scope and rec.options == []
    assert any("18474-7" in n for n in imported.input_notes)


def _bundle(name="seed-01-first-line", **changes):
    case = load_case(next(p for p in ANSWERED if p.stem == name))
    patient = dict(case["patient"], **changes)
    return patient_to_bundle(patient, AS_OF)


def _observations(bundle, code):
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
            and e["resource"]["code"]["coding"][0]["code"] == code]


def test_her2_negative_ihc_answers_out_of_scope():
    """IHC 1+ imported from FHIR: the engine answers out of scope."""
    rec = recommend(fhir_to_patient(_bundle(her2={"ihc": "1+", "ish": None}), AS_OF).patient)
    assert rec.out_of_scope and rec.options == []


def test_two_disagreeing_her2_results_are_a_conflict_not_a_guess():
    """IHC 3+ and a later IHC 0: HER2 left unknown, the conflict returned, the answer out of scope."""
    bundle = _bundle()
    ihc = copy.deepcopy(_observations(bundle, "85319-2")[0])
    ihc["id"] = "second-ihc"
    ihc["valueCodeableConcept"] = {"text": "IHC 0"}
    bundle["entry"].append({"resource": ihc})
    imported = fhir_to_patient(bundle, AS_OF)
    assert imported.patient.her2.ihc is None
    assert any("HER2 IHC results disagree" in c and "second-ihc" in c for c in imported.conflicts)
    assert recommend(imported.patient).out_of_scope


def test_her2_is_never_inferred_from_trastuzumab():
    """No HER2 test but trastuzumab given: HER2 unknown, reported missing, out of scope."""
    bundle = _bundle("second-line-after-thp")
    bundle["entry"] = [e for e in bundle["entry"] if not e["resource"].get("code", {}).get("coding", [{}])[0]
                       .get("code", "").startswith(("85319", "85318", "48676"))]
    imported = fhir_to_patient(bundle, AS_OF)
    assert imported.patient.her2.ihc is None and imported.patient.her2.ish is None
    assert any("HER2 IHC score" in m for m in imported.missing_data)
    assert recommend(imported.patient).out_of_scope


def test_stale_lvef_is_missing_data_not_used():
    """An LVEF older than 92 days is not used; missing data says how old it is."""
    bundle = _bundle()
    _observations(bundle, "10230-1")[0]["effectiveDateTime"] = "2025-06-01"
    imported = fhir_to_patient(bundle, AS_OF)
    assert imported.patient.lvef_percent is None
    assert any("LVEF" in m and "older than the 92-day limit" in m for m in imported.missing_data)


def test_stop_reasons_map_from_mcode_termination_codes():
    """266721009 -> progression, 407563006 -> toxicity; the provenance cites each medication resource."""
    imported = fhir_to_patient(_bundle("second-line-after-thp"), AS_OF)
    stops = [t.stop_reason.value for t in imported.patient.treatments if t.stop_reason]
    assert stops == ["completed", "progression"]
    assert imported.provenance.fields["treatments[1]"][0].resource.startswith("MedicationStatement/")


def test_invalid_resource_names_the_element():
    """A bad value inside an entry: the OperationOutcome's expression points at it."""
    bundle = _bundle()
    _observations(bundle, "10230-1")[0]["valueQuantity"]["value"] = "sixty"
    with pytest.raises(FhirInputError) as info:
        fhir_to_patient(bundle, AS_OF)
    expr = info.value.operation_outcome()["issue"][0]["expression"][0]
    assert expr.startswith("Bundle.entry[") and expr.endswith("(Observation).valueQuantity.value")


def test_contract_violation_names_the_fhir_resources():
    """A metastatic treatment dated before the metastatic diagnosis is refused, naming the resources."""
    bundle = _bundle("second-line-after-thp")
    for e in bundle["entry"]:
        if e["resource"]["resourceType"] == "Condition" and "onsetDateTime" in e["resource"] and \
                "mcode-secondary" in str(e["resource"].get("meta")):
            e["resource"]["onsetDateTime"] = "2025-12-01"
    with pytest.raises(FhirInputError) as info:
        fhir_to_patient(bundle, AS_OF)
    text = str(info.value.operation_outcome())
    assert "MedicationStatement/" in text and "metastatic treatment cannot start before" in text


def test_ndjson_and_detect_and_convert():
    """Bulk Data ndjson (a list of resources) reads like a Bundle; contract JSON passes through untouched."""
    bundle = _bundle()
    resources = [e["resource"] for e in bundle["entry"]]
    data, imported = detect_and_convert(resources, AS_OF)
    assert imported is not None and imported.source == "ndjson" and data["her2"]["ihc"] == "3+"
    contract = load_case(ANSWERED[0])["patient"]
    assert detect_and_convert(contract, AS_OF) == (contract, None)
