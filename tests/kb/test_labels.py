"""Contract tests of the drug-label safety table (kb/labels/) and the drug-name synonyms."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from mbcpath.domain.drug_names import SYNONYMS
from mbcpath.domain.drugs import DRUG_CLASSES, DrugClass
from mbcpath.errors import KnowledgeBaseError
from mbcpath.kb.labels import (
    INTERACTION_CATEGORIES,
    RESTRICTIVE_EFFECTS,
    effective_condition,
    label_file_name,
    label_problems,
    load_dimensions,
    load_labels,
    render_matrix,
)
from mbcpath.kb.models import LABEL_DIMENSIONS, DrugLabel, LabelRule, Source, SourceRegistry
from mbcpath.rules.conditions import compile_condition

KB = ROOT / "kb"
LABEL_FILES = sorted(p for p in (KB / "labels").glob("*.yaml") if p.name != "dimensions.yaml")


@pytest.fixture(scope="module")
def labels():
    return load_labels(KB)


@pytest.fixture(scope="module")
def dimensions():
    return load_dimensions(KB)


@pytest.fixture(scope="module")
def sources():
    out: dict[str, Source] = {}
    for p in sorted((KB / "sources").glob("*.yaml")):
        out.update(SourceRegistry.model_validate(yaml.safe_load(p.read_text(encoding="utf-8"))).sources)
    return out


def _dims(dimensions):
    return {d.id: d for d in dimensions.dimensions}


def _fires(labels, dimensions, drug, dim, facts):
    """Effects of the rules of ``drug``/``dim`` whose condition is true for ``facts``."""
    d = _dims(dimensions)[dim]
    return {r.effect for r in labels[drug].dimensions[dim]
            if compile_condition(effective_condition(r, d)).evaluate(facts) is True}


# ----------------------------------------------------------------------------- completeness
@pytest.mark.parametrize("drug", sorted(DRUG_CLASSES))
def test_every_drug_of_the_vocabulary_has_a_label_file(drug):
    """kb/labels/<drug-with-hyphens>.yaml exists for each drug of DRUG_CLASSES."""
    assert (KB / "labels" / label_file_name(drug)).is_file()


@pytest.mark.parametrize("path", LABEL_FILES, ids=lambda p: p.stem)
def test_every_label_file_validates(path):
    """Each file validates as a DrugLabel whose drug matches the file name."""
    label = DrugLabel.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert label_file_name(label.drug) == path.name


def test_the_table_loads_every_drug_and_has_no_cross_check_problems(labels, dimensions, sources):
    """load_labels returns all 36 drugs; every key resolves and every stop cites a verified source."""
    assert set(labels) == set(DRUG_CLASSES)
    assert label_problems(labels, dimensions, sources) == []


def test_dimensions_file_describes_every_dimension_and_category(dimensions):
    """dimensions.yaml: the seven dimensions with the agreed triggers, all interaction categories."""
    triggers = {d.id: d.when for d in dimensions.dimensions}
    assert triggers == {
        "pregnancy": "pregnant == true",
        "lvef": "lvef_percent < 50 or heart_failure == true",
        "ild": "ild_history in ['grade2_or_higher', 'active']",
        "qtc": "qtcf_ms >= 450",
        "hepatic": "hepatic_impairment in ['moderate', 'severe']",
        "neuropathy": "neuropathy_grade >= 2",
        "interactions": "interacting_drugs is not null",
    }
    assert set(dimensions.interaction_categories) == INTERACTION_CATEGORIES
    assert _dims(dimensions)["interactions"].if_unknown is None


# ----------------------------------------------------------------------------- the matrix
@pytest.mark.parametrize("dim", LABEL_DIMENSIONS)
@pytest.mark.parametrize("drug", sorted(DRUG_CLASSES))
def test_matrix_cell_has_rules_and_stops_rest_on_verified_sources(labels, sources, drug, dim):
    """Every drug x dimension has a rule; a restrictive rule cites a verified source."""
    rules = labels[drug].dimensions[dim]
    assert rules
    for rule in rules:
        assert all(k in sources for k in rule.sources)
        if rule.effect in RESTRICTIVE_EFFECTS:
            assert any(sources[k].verified for k in rule.sources), (drug, dim, rule.text)


@pytest.mark.parametrize("drug", sorted(DRUG_CLASSES))
def test_interaction_rules_name_categories_so_they_never_fire_for_everyone(labels, drug):
    """Only `none` may omit `interacting` (the trigger alone is always true)."""
    for rule in labels[drug].dimensions["interactions"]:
        assert rule.effect == "none" or rule.interacting, rule.text


@pytest.mark.parametrize("drug", sorted(DRUG_CLASSES))
def test_overrides_are_offered_only_for_anti_her2_lvef_rules(labels, drug):
    """overridable: true appears only on LVEF/heart-failure rules of anti-HER2 antibodies and ADCs."""
    for dim, rules in labels[drug].dimensions.items():
        for rule in rules:
            if rule.overridable:
                assert dim == "lvef"
                assert DRUG_CLASSES[drug] in (DrugClass.ANTI_HER2_ANTIBODY, DrugClass.HER2_ADC)
                assert "cardio-oncology" in rule.text


def test_pregnancy_removes_every_drug_in_the_first_trimester(labels, dimensions):
    """Pregnant in the first trimester: each drug has a rule that excludes it."""
    facts = {"pregnant": True, "pregnancy_trimester": 1.0}
    for drug in DRUG_CLASSES:
        assert _fires(labels, dimensions, drug, "pregnancy", facts) & {"contraindicated", "withhold_stop"}, drug


def test_pregnancy_with_unknown_trimester_is_treated_as_first_trimester(labels, dimensions):
    """Trimester unknown: no drug is allowed on the strength of a later-trimester rule."""
    facts = {"pregnant": True}
    for drug in DRUG_CLASSES:
        assert _fires(labels, dimensions, drug, "pregnancy", facts) & {"contraindicated", "withhold_stop"}, drug


def test_later_trimesters_allow_taxanes_and_anthracycline_regimens_only(labels, dimensions):
    """Second trimester: taxanes, anthracyclines, cyclophosphamide and 5-FU warn; all else still stops."""
    facts = {"pregnant": True, "pregnancy_trimester": 2.0}
    allowed = {"docetaxel", "paclitaxel", "doxorubicin", "epirubicin", "cyclophosphamide", "fluorouracil"}
    for drug in DRUG_CLASSES:
        effects = _fires(labels, dimensions, drug, "pregnancy", facts)
        if drug in allowed:
            assert effects == {"monitor"}, drug
        else:
            assert effects & {"contraindicated", "withhold_stop"}, drug


def test_no_rule_fires_for_a_patient_who_is_not_pregnant(labels, dimensions):
    """pregnant == false triggers nothing."""
    for drug in DRUG_CLASSES:
        assert _fires(labels, dimensions, drug, "pregnancy", {"pregnant": False}) == set(), drug


def test_ild_rules_follow_the_t_dxd_and_t_dm1_labels(labels, dimensions):
    """T-DXd stops for past grade >= 2 or active ILD and warns after grade 1; T-DM1 stops for active ILD."""
    def fires(drug, state):
        return _fires(labels, dimensions, drug, "ild", {"ild_history": state})

    assert fires("trastuzumab deruxtecan", "grade2_or_higher") == {"withhold_stop"}
    assert fires("trastuzumab deruxtecan", "active") == {"withhold_stop"}
    assert fires("trastuzumab deruxtecan", "grade1") == {"monitor"}
    assert fires("trastuzumab deruxtecan", "none") == set()
    assert fires("trastuzumab emtansine", "active") == {"withhold_stop"}
    assert fires("trastuzumab emtansine", "grade2_or_higher") == {"monitor"}
    assert fires("trastuzumab", "grade2_or_higher") == {"monitor"}


def test_active_ild_warns_or_stops_every_drug_whose_label_names_pneumonitis(labels, dimensions):
    """Active ILD: every drug whose ILD rules are not all `none` reacts (stop or warning)."""
    for drug, label in labels.items():
        if any(r.effect != "none" for r in label.dimensions["ild"]):
            assert _fires(labels, dimensions, drug, "ild", {"ild_history": "active"}), drug


def test_ribociclib_qtcf_threshold_is_the_labels(labels, dimensions):
    """Ribociclib: QTcF 450 ms stops a new start, 449 ms does not; other CDK4/6 inhibitors unaffected."""
    assert "do_not_start" in _fires(labels, dimensions, "ribociclib", "qtc", {"qtcf_ms": 450.0})
    assert _fires(labels, dimensions, "ribociclib", "qtc", {"qtcf_ms": 449.0}) == set()
    for drug in ("palbociclib", "abemaciclib"):
        assert _fires(labels, dimensions, drug, "qtc", {"qtcf_ms": 480.0}) <= {"none"}


def test_trastuzumab_lvef_rules_use_the_fall_from_baseline(labels, dimensions):
    """Herceptin: withhold for a 16-point fall even above 50%, or below 50% with a 10-point fall."""
    def fires(**facts):
        return _fires(labels, dimensions, "trastuzumab", "lvef", facts)

    assert "withhold_stop" in fires(lvef_percent=52.0, lvef_drop_points=16.0)
    assert "withhold_stop" in fires(lvef_percent=48.0, lvef_drop_points=10.0)
    assert fires(lvef_percent=48.0, lvef_drop_points=5.0) == {"do_not_start"}
    assert fires(lvef_percent=60.0, lvef_drop_points=5.0) == set()


def test_lvef_40_to_49_stops_or_warns_every_drug_whose_label_names_lvef(labels, dimensions):
    """LVEF 45% (no baseline, no heart failure): every drug with an LVEF-based rule reacts."""
    lvef = _dims(dimensions)["lvef"]
    for drug, label in labels.items():
        names_lvef = any(r.effect != "none" and "lvef_percent" in effective_condition(r, lvef)
                         for r in label.dimensions["lvef"])
        effects = _fires(labels, dimensions, drug, "lvef", {"lvef_percent": 45.0, "heart_failure": False}) - {"none"}
        assert bool(effects) == names_lvef, drug


def test_heart_failure_stops_or_warns_anti_her2_and_anthracyclines(labels, dimensions):
    """Symptomatic heart failure: anti-HER2 antibodies, ADCs and anthracyclines never pass silently."""
    facts = {"lvef_percent": 55.0, "heart_failure": True}
    for drug in ("trastuzumab", "pertuzumab", "margetuximab", "zanidatamab", "trastuzumab deruxtecan",
                 "trastuzumab emtansine", "lapatinib", "doxorubicin", "epirubicin"):
        assert _fires(labels, dimensions, drug, "lvef", facts) & RESTRICTIVE_EFFECTS, drug


def test_docetaxel_hepatic_rule_is_the_boxed_warning(labels, dimensions):
    """Docetaxel: bilirubin > ULN, or AST/ALT > 1.5 x ULN with ALP > 2.5 x ULN, stops it."""
    def fires(**facts):
        return _fires(labels, dimensions, "docetaxel", "hepatic", facts)

    assert "withhold_stop" in fires(bilirubin_x_uln=1.2)
    assert "withhold_stop" in fires(bilirubin_x_uln=0.8, transaminases_x_uln=1.6, alp_x_uln=2.6)
    assert "withhold_stop" not in fires(bilirubin_x_uln=0.8, transaminases_x_uln=1.6, alp_x_uln=2.0)


def test_interaction_rules_fire_only_for_their_categories(labels, dimensions):
    """Tucatinib: a strong CYP3A inducer blocks a start; a PPI alone changes nothing."""
    def fires(drugs):
        return _fires(labels, dimensions, "tucatinib", "interactions", {"interacting_drugs": frozenset(drugs)})

    assert "do_not_start" in fires({"strong_cyp3a_inducer"})
    assert fires({"acid_reducing_agent"}) == set()
    assert fires(set()) == set()


def test_effective_condition_ands_the_interacting_categories():
    """The interacting list is ANDed into the trigger as 'any of them'."""
    from mbcpath.kb.models import LabelDimension

    dim = LabelDimension(id="interactions", title="t", when="interacting_drugs is not null", sources=["X1"])
    rule = LabelRule(effect="monitor", text="txt", section="7", sources=["X1"],
                     interacting=["warfarin", "qt_prolonging"])
    assert effective_condition(rule, dim) == (
        "(interacting_drugs is not null) and ('warfarin' in interacting_drugs or 'qt_prolonging' in interacting_drugs)")


# ----------------------------------------------------------------------------- loader errors
def _copy_kb(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    shutil.copytree(KB / "labels", root / "labels")
    return root


def test_a_missing_drug_file_fails_the_load_naming_the_drug(tmp_path):
    """Removing a drug's file is a KB error that names it."""
    root = _copy_kb(tmp_path)
    (root / "labels" / "tucatinib.yaml").unlink()
    with pytest.raises(KnowledgeBaseError, match=r"no label file for drug\(s\) \['tucatinib'\]"):
        load_labels(root)


def test_a_missing_dimension_fails_the_load_naming_it(tmp_path):
    """A label without the qtc dimension does not validate."""
    root = _copy_kb(tmp_path)
    path = root / "labels" / "letrozole.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["dimensions"]["qtc"]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"letrozole.yaml: .*safety dimension\(s\) \['qtc'\]"):
        load_labels(root)


def test_a_file_named_for_another_drug_fails_the_load(tmp_path):
    """The file name must be the drug's name with hyphens."""
    root = _copy_kb(tmp_path)
    (root / "labels" / "letrozole.yaml").rename(root / "labels" / "femara.yaml")
    with pytest.raises(KnowledgeBaseError, match=r"rename it to 'letrozole.yaml'"):
        load_labels(root)


def test_label_problems_catch_unread_stops_unknown_keys_and_categories(labels, dimensions, sources):
    """A stop citing only an unverified source, an unknown key and an unknown category are reported."""
    bad = labels["letrozole"].model_copy(deep=True)
    bad.dimensions["qtc"][0] = LabelRule(effect="withhold_stop", text="x stop", section="5",
                                         sources=["LBL-GIREDESTRANT-0"])
    bad.dimensions["interactions"][0] = LabelRule(effect="monitor", text="x warn", section="7",
                                                  sources=["NO-SUCH-KEY"], interacting=["grapefruit"])
    problems = label_problems({"letrozole": bad}, dimensions, sources)
    assert any("labels/letrozole#qtc[0]: effect 'withhold_stop'" in p for p in problems)
    assert any("'NO-SUCH-KEY' is not in kb/sources" in p for p in problems)
    assert any("unknown interacting category 'grapefruit'" in p for p in problems)


def test_unverified_sources_are_marked_as_unread(sources):
    """Every verified: false source of the label table says what to check."""
    for key, src in sources.items():
        if key.startswith("LBL-") and not src.verified:
            assert "check" in (src.citation or "") + src.note, key


# ----------------------------------------------------------------------------- README matrix
def test_readme_matrix_is_up_to_date(labels):
    """kb/labels/README.md embeds the current drug x dimension matrix."""
    spec = importlib.util.spec_from_file_location("label_matrix", ROOT / "scripts" / "label_matrix.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = (KB / "labels" / "README.md").read_text(encoding="utf-8")
    assert module.updated_readme(text, render_matrix(labels)) == text


# ----------------------------------------------------------------------------- synonyms
def test_every_synonym_maps_to_known_inns_and_is_not_an_inn():
    """Synonyms are lower-case, stripped, differ from every INN and map to vocabulary drugs."""
    for name, inns in SYNONYMS.items():
        assert name == name.strip().lower(), name
        assert name not in DRUG_CLASSES, name
        assert inns and all(inn in DRUG_CLASSES for inn in inns), name
        assert len(set(inns)) == len(inns), name


@pytest.mark.parametrize("name, inns", [
    ("herceptin", ("trastuzumab",)), ("phesgo", ("pertuzumab", "trastuzumab")),
    ("enhertu", ("trastuzumab deruxtecan",)), ("t-dxd", ("trastuzumab deruxtecan",)),
    ("kadcyla", ("trastuzumab emtansine",)), ("t-dm1", ("trastuzumab emtansine",)),
    ("tukysa", ("tucatinib",)), ("nerlynx", ("neratinib",)), ("tykerb", ("lapatinib",)),
    ("5-fu", ("fluorouracil",)), ("leuprolide", ("leuprorelin",)),
])
def test_common_clinical_names_resolve(name, inns):
    """The names the issue lists resolve to the right INNs."""
    assert SYNONYMS[name] == inns


@pytest.mark.parametrize("name", ["abraxane", "nab-paclitaxel", "doxil", "caelyx", "myocet", "trastuzumab deruxtecan"])
def test_different_products_are_not_mapped(name):
    """A different product (nab-paclitaxel, liposomal doxorubicin) or an INN is not a synonym."""
    assert name not in SYNONYMS
