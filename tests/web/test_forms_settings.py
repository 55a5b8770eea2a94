"""Units of the web adapter: form <-> contract mapping, error placement, settings, JSON parsing, search."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mbcpath.errors import Issue
from mbcpath.web import forms
from mbcpath.web.services import MalformedJson, parse_json_bytes, search_trials
from mbcpath.web.settings import Settings

from .conftest import CASES, case


def _valid_cases() -> list[Path]:
    return [p for p in sorted(CASES.glob("*.json")) if not json.loads(p.read_text())["expect"].get("reject")]


@pytest.mark.parametrize("path", _valid_cases(), ids=lambda p: p.stem)
def test_form_round_trip_preserves_every_vignette(path):
    """contract -> form -> contract gives back the same patient for every valid vignette."""
    from mbcpath.domain.validation import parse_patient

    p = json.loads(path.read_text())["patient"]
    data, _, _ = forms.contract_from_state(forms.state_from_contract(p))
    assert parse_patient(data) == parse_patient(p)


def test_blank_form_leaves_clinical_values_unknown():
    """The empty form defaults only non-clinical values; safety findings stay unknown (null)."""
    data, _, _ = forms.contract_from_state(forms.FormState())
    for k in ("lvef_percent", "ild_history", "qtcf_ms", "neuropathy_grade", "pregnant", "er_percent"):
        assert data[k] is None
    assert "age_years" not in data  # required: validation will say so


def test_numbers_and_text_are_read_leniently_but_never_guessed():
    """'62,5' reads as 62.5; 'abc' is passed through so validation names the field."""
    state = forms.FormState(values={**forms.blank_values(), "lvef_percent": "62,5", "er_percent": "abc",
                                    "age_years": "56"})
    data, _, _ = forms.contract_from_state(state)
    assert data["lvef_percent"] == 62.5 and data["er_percent"] == "abc" and data["age_years"] == 56


def test_issue_paths_map_to_form_fields():
    """Contract paths map to the input they belong to, through skipped empty rows."""
    row_map = [2, 5]  # contract treatments[0] is form row 2, treatments[1] is form row 5
    assert forms.form_key("treatments[1].drugs[0]", row_map, []) == "t-5-drugs"
    assert forms.form_key("treatments[0]", row_map, []) == "t-2-drugs"
    assert forms.form_key("her2.ish", [], []) == "her2_ish"
    assert forms.form_key("preferences.avoid_chemotherapy", [], []) == "avoid_chemotherapy"
    assert forms.form_key("metastatic_sites[2]", [], []) == "metastatic_sites"
    assert forms.form_key("gate_overrides[0].reason", [], [3]) == "o-3-reason"
    assert forms.form_key("(root)", [], []) is None


def test_place_issues_puts_unplaceable_ones_in_the_summary():
    """Issues without a field go to the general list; others sit by their field, labelled, with the value."""
    state = forms.place_issues(forms.FormState(), [Issue("er_percent", 150.0, "too high"),
                                                   Issue("(root)", None, "broken")], [], [])
    assert state.errors == {"er_percent": ["ER: too high (entered: 150)"]}
    assert state.general_errors == ["(root): broken"]


def test_settings_from_env():
    """MBCPATH_WEB_* variables set the fields; CORS origins split on commas."""
    s = Settings.from_env({"MBCPATH_WEB_PORT": "9001", "MBCPATH_WEB_MAX_BODY_BYTES": "4096",
                           "MBCPATH_WEB_CORS_ORIGINS": "https://a.example, https://b.example",
                           "MBCPATH_WEB_ACCESS_LOG": "yes", "MBCPATH_WEB_KB_PATH": "/tmp/kb"})
    assert s.port == 9001 and s.max_body_bytes == 4096 and s.access_log is True
    assert s.cors_origins == ("https://a.example", "https://b.example")
    assert s.kb_path == Path("/tmp/kb")


def test_settings_defaults_are_private():
    """Defaults: loopback only, no access log, no CORS, 256 KiB."""
    s = Settings.from_env({})
    assert (s.host, s.port, s.access_log, s.cors_origins, s.max_body_bytes) == ("127.0.0.1", 8000, False, (), 262144)


def test_settings_reject_nonsense():
    """A bad value fails loudly at start-up."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Settings.from_env({"MBCPATH_WEB_PORT": "eighty"})


@pytest.mark.parametrize(("raw", "reason"), [(b"", "empty"), (b"{", "not valid JSON"), (b"NaN", "NaN"),
                                             (b"[" * 100_000, "nested too deeply"), (b"\xff", "UTF-8")])
def test_parse_json_bytes_reasons(raw, reason):
    """Each malformed body gets a short, specific reason."""
    with pytest.raises(MalformedJson) as err:
        parse_json_bytes(raw)
    assert reason in err.value.detail


def test_search_ignores_case_and_punctuation(kb):
    """'her2climb 05' and 'HER2CLIMB-05' find the same trial; every word must match."""
    assert [t.id for t in search_trials(kb, "HER2CLIMB-05")] == ["HER2CLIMB-05"]
    assert "HER2CLIMB-05" in [t.id for t in search_trials(kb, "her2climb05")]
    assert search_trials(kb, "cleopatra brain") == []
    assert len(search_trials(kb, "")) == len(kb.trials)


def test_examples_include_the_walkthrough_seeds():
    """The shipped examples hold a patient for each walkthrough step."""
    from mbcpath.web.examples import WALKTHROUGH, walkthrough_example

    from .conftest import examples_dir

    for step in WALKTHROUGH:
        ex = walkthrough_example(examples_dir(), step)
        assert ex is not None, step.file_prefix
        assert ex.patient["age_years"] == case("seed-01-first-line")["age_years"]
