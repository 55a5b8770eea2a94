"""Terminology the FHIR adapter reads and writes: code systems, LOINC / SNOMED CT / ICD-10-CM codes, RxNorm.

Every code here carries where it was found. ``VERIFIED`` codes are in an official HL7 artefact or in the
project's sourced code table (``tests/data/interop/mcode/her2-mbc-codes.json``, status
``verified-in-source``); ``SEEN`` codes were found in public code or implementation guides only (status
``seen-in-public-code`` there, or found by the project in public FHIR content). ICD-10-CM codes are
those of the CDC's ICD-10-CM tabular list (C77-C79 lie in mCODE's SecondaryCancerDisorderVS).

Codes that exist only inside mbcpath (a visceral crisis has no LOINC or SNOMED CT code the project could
verify) use the system ``MBCPATH_CODES`` and extensions under ``MBCPATH_EXT``: see docs/interop.md.

References
----------
HL7 mCODE STU4 (hl7.fhir.us.mcode 4.0.0), TumorMarkerTestVS, SecondaryCancerDisorderVS,
    TreatmentTerminationReasonVS, ProcedureIntentVS (CC0-1.0).
CDC/NCHS. ICD-10-CM Tabular List of Diseases, chapter 2 (C77-C79 secondary malignant neoplasms).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VER_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

MCODE_SD = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
PROCEDURE_INTENT_EXT = MCODE_SD + "mcode-procedure-intent"
#: mbcpath's own extensions and codes (no standard element exists for these contract fields).
MBCPATH_EXT = "urn:mbcpath:fhir:extension:"
MBCPATH_CODES = "urn:mbcpath:fhir:code"

VERIFIED = "verified-in-source"
SEEN = "seen-in-public-code"


@dataclass(frozen=True)
class Code:
    """A code with its display and where it was found."""

    system: str
    code: str
    display: str
    status: str = VERIFIED

    def coding(self) -> dict[str, str]:
        return {"system": self.system, "code": self.code, "display": self.display}


# --------------------------------------------------------------------------- HER2, ER, PR (LOINC; TumorMarkerTestVS)
HER2_IHC = (Code(LOINC, "85319-2", "HER2 [Presence] in Breast cancer specimen by Immune stain"),
            Code(LOINC, "18474-7", "HER2 Ag [Presence] in Tissue by Immune stain"))
HER2_ISH = (Code(LOINC, "85318-4", "ERBB2 gene duplication [Presence] in Breast cancer specimen by FISH"),
            Code(LOINC, "31150-6", "ERBB2 gene duplication [Presence] in Tissue by FISH"),
            Code(LOINC, "96893-3", "ERBB2 gene duplication in Tumor by FISH"))
HER2_ISH_RATIO = Code(LOINC, "49683-6", "ERBB2 gene copy number/Chromosome 17 copy number in Tissue by FISH")
HER2_ISH_COPIES = Code(LOINC, "74860-8", "ERBB2 gene copy number/nucleus in Tissue by FISH")
HER2_INTERPRETATION = Code(LOINC, "48676-1", "HER2 [Interpretation] in Tissue")
ER_PERCENT = (Code(LOINC, "85329-1", "Cells.estrogen receptor/100 cells in Breast cancer specimen by Immune stain"),
              Code(LOINC, "14228-1", "Cells.estrogen receptor/100 cells in Tissue by Immune stain"))
ER_PRESENCE = (Code(LOINC, "85337-4", "Estrogen receptor Ag [Presence] in Breast cancer specimen by Immune stain"),
               Code(LOINC, "40556-3", "Estrogen receptor Ag [Presence] in Tissue by Immune stain"),
               Code(LOINC, "16112-5", "Estrogen receptor [Interpretation] in Tissue"))
PR_PERCENT = (Code(LOINC, "85325-9", "Cells.progesterone receptor/100 cells in Breast cancer specimen by Immune stain"),
              Code(LOINC, "14230-7", "Cells.progesterone receptor/100 cells in Tissue by Immune stain"))
PR_PRESENCE = (Code(LOINC, "85339-0", "Progesterone receptor Ag [Presence] in Breast cancer specimen by Immune stain"),
               Code(LOINC, "40557-1", "Progesterone receptor Ag [Presence] in Tissue by Immune stain"),
               Code(LOINC, "16113-3", "Progesterone receptor [Interpretation] in Tissue"))
#: IHC score answers (LOINC answer list): unverified in the code table, so a score is read from the
#: display or text when one is present, and the code alone only with an input note.
HER2_IHC_ANSWERS = {"LA6111-4": "0", "LA11841-6": "1+", "LA11842-4": "2+", "LA11843-2": "3+"}

POSITIVE = {(LOINC, "LA6576-8"), (SNOMED, "10828004")}
NEGATIVE = {(LOINC, "LA6577-6"), (SNOMED, "260385009")}
#: "Equivocal" answers: LOINC LA15125-8 is not in the code table, so only the display word is read.
ANSWER_POSITIVE = Code(LOINC, "LA6576-8", "Positive")
ANSWER_NEGATIVE = Code(LOINC, "LA6577-6", "Negative")

# --------------------------------------------------------------------------- performance status, cardiac, pregnancy
ECOG = Code(LOINC, "89247-1", "ECOG Performance Status score")
KARNOFSKY = Code(LOINC, "89243-0", "Karnofsky Performance Status score")
LVEF = (Code(LOINC, "10230-1", "Left ventricular Ejection fraction", SEEN),)
QTCF = Code(LOINC, "76634-5", "QTc interval by Fridericia", SEEN)
QTC = Code(LOINC, "8636-3", "QT interval corrected", SEEN)
QTC_BAZETT = Code(LOINC, "76635-2", "QTc interval by Bazett", SEEN)
PREGNANCY_STATUS = Code(LOINC, "82810-3", "Pregnancy status", SEEN)
PREGNANT = Code(SNOMED, "77386006", "Pregnant")  # "Pregnancy (finding)" in mCODE TreatmentTerminationReasonVS
NOT_PREGNANT = Code(SNOMED, "60001007", "Not pregnant", SEEN)
MENOPAUSAL = {
    "22636003": "premenopausal",          # MII ValueSet mii-vs-onko-mamma-menopause-status (verified there)
    "76498008": "postmenopausal",
    "307409000": "perimenopausal",        # seen in public code only
    "161541000119104": "perimenopausal",  # seen in public code only
    "261665006": "unknown",
}
MENOPAUSAL_CODES = {v: Code(SNOMED, k, f"{v.capitalize()} state") for k, v in MENOPAUSAL.items() if k != "261665006"}
MENOPAUSAL_STATUS_OBS = Code(SNOMED, "161712005", "Menopausal status", SEEN)

# --------------------------------------------------------------------------- conditions
BREAST_CANCER = Code(SNOMED, "254837009", "Malignant neoplasm of breast (disorder)")
SECONDARY_SNOMED = {
    "94222008": "bone", "94381002": "liver", "94181007": "lymph_node", "94225005": "brain",
}
SECONDARY_SNOMED_CODES = {
    "bone": Code(SNOMED, "94222008", "Secondary malignant neoplasm of bone (disorder)"),
    "liver": Code(SNOMED, "94381002", "Secondary malignant neoplasm of liver (disorder)"),
    "lymph_node": Code(SNOMED, "94181007", "Secondary malignant neoplasm of axillary lymph nodes (disorder)"),
    "brain": Code(SNOMED, "94225005", "Secondary malignant neoplasm of brain"),
}
#: ICD-10-CM prefixes (longest first) -> contract site.
SECONDARY_ICD10 = (
    ("C79.31", "brain"), ("C79.32", "leptomeningeal"), ("C79.51", "bone"), ("C79.52", "bone"),
    ("C78.7", "liver"), ("C78.0", "lung"), ("C78.2", "pleura"), ("C79.2", "skin_soft_tissue"),
    ("C77", "lymph_node"), ("C78", "other"), ("C79", "other"),
)
SECONDARY_ICD10_CODES = {
    "brain": Code(ICD10CM, "C79.31", "Secondary malignant neoplasm of brain"),
    "leptomeningeal": Code(ICD10CM, "C79.32", "Secondary malignant neoplasm of cerebral meninges"),
    "bone": Code(ICD10CM, "C79.51", "Secondary malignant neoplasm of bone"),
    "liver": Code(ICD10CM, "C78.7", "Secondary malignant neoplasm of liver and intrahepatic bile duct"),
    "lung": Code(ICD10CM, "C78.00", "Secondary malignant neoplasm of unspecified lung"),
    "pleura": Code(ICD10CM, "C78.2", "Secondary malignant neoplasm of pleura"),
    "skin_soft_tissue": Code(ICD10CM, "C79.2", "Secondary malignant neoplasm of skin"),
    "lymph_node": Code(ICD10CM, "C77.3", "Secondary malignant neoplasm of axilla and upper limb lymph nodes"),
    "other": Code(ICD10CM, "C79.89", "Secondary malignant neoplasm of other specified sites"),
}
ILD = (Code(SNOMED, "233703007", "Interstitial lung disease", SEEN),
       Code(ICD10CM, "J84.9", "Interstitial pulmonary disease, unspecified"))
HEART_FAILURE = (Code(SNOMED, "84114007", "Heart failure", SEEN), Code(ICD10CM, "I50.9", "Heart failure, unspecified"))
NEUROPATHY = (Code(ICD10CM, "G62.9", "Polyneuropathy, unspecified"),
              Code(MBCPATH_CODES, "peripheral-neuropathy", "Peripheral neuropathy"))

# --------------------------------------------------------------------------- disease status (mCODE)
DISEASE_STATUS = Code(LOINC, "97509-4", "Cancer Disease Progression")
STATUS_IMPROVED, STATUS_STABLE = "268910001", "359746009"
STATUS_WORSENED, STATUS_UNDETERMINED = "271299001", "709137006"
STATUS_CODES = {
    STATUS_IMPROVED: Code(SNOMED, STATUS_IMPROVED, "Patient's condition improved (finding)"),
    STATUS_STABLE: Code(SNOMED, STATUS_STABLE, "Patient's condition stable (finding)"),
    STATUS_WORSENED: Code(SNOMED, STATUS_WORSENED, "Patient's condition worsened (finding)"),
}

# --------------------------------------------------------------------------- treatment intent and termination
INTENT_CURATIVE = Code(SNOMED, "373808002", "Curative - procedure intent")
INTENT_PALLIATIVE = Code(SNOMED, "363676003", "Palliative - procedure intent")
#: mCODE TreatmentTerminationReasonVS -> contract stop_reason (None: not codable, reported as a note).
TERMINATION_REASONS: dict[str, str | None] = {
    "266721009": "progression",      # No response to treatment
    "407563006": "toxicity",         # Treatment not tolerated
    "105480006": "patient_choice",   # Refusal of treatment by patient
    "7058009": None, "160932005": None, "184081006": None, "309846006": None, "399307001": None,
    "419620001": None, "443729008": None, "77386006": None,
}
TERMINATION_CODES = {
    "progression": Code(SNOMED, "266721009", "No response to treatment (situation)"),
    "toxicity": Code(SNOMED, "407563006", "Treatment not tolerated (situation)"),
    "patient_choice": Code(SNOMED, "105480006", "Refusal of treatment by patient (situation)"),
}

# --------------------------------------------------------------------------- mbcpath's own codes and extensions
VISCERAL_CRISIS = Code(MBCPATH_CODES, "visceral-crisis", "Visceral crisis")
NEUROPATHY_GRADE = Code(MBCPATH_CODES, "neuropathy-grade", "Peripheral neuropathy, CTCAE grade")
EXT_GRADE = MBCPATH_EXT + "ctcae-grade"
EXT_LINE = MBCPATH_EXT + "line-of-therapy"
EXT_PHASE = MBCPATH_EXT + "treatment-phase"
EXT_SETTING = MBCPATH_EXT + "treatment-setting"
EXT_REGIMEN = MBCPATH_EXT + "regimen"
EXT_BRAIN_STATUS = MBCPATH_EXT + "brain-metastases-status"
EXT_CONTEXT = MBCPATH_EXT + "decision-context"


def codings(concept: object) -> list[tuple[str, str, str]]:
    """``(system, code, display)`` of every coding of a CodeableConcept (model or dict)."""
    if concept is None:
        return []
    if not isinstance(concept, dict):  # a fhir.resources model: read the attributes (model_dump is slow)
        return [(c.system or "", c.code or "", c.display or "") for c in getattr(concept, "coding", None) or []]
    return [(c.get("system") or "", c.get("code") or "", c.get("display") or "") for c in concept.get("coding") or []]


def has_code(concept: object, wanted: Code | tuple[Code, ...]) -> bool:
    """Does the concept carry one of the wanted codes?"""
    pool = wanted if isinstance(wanted, tuple) else (wanted,)
    keys = {(c.system, c.code) for c in pool}
    return any((s, c) in keys for s, c, _ in codings(concept))


# --------------------------------------------------------------------------- RxNorm -> INN
#: Brand and US adopted names -> contract INN (US labels; the INN list is the contract's).
BRANDS = {
    "herceptin": "trastuzumab", "herzuma": "trastuzumab", "kanjinti": "trastuzumab", "ogivri": "trastuzumab",
    "ontruzant": "trastuzumab", "trazimera": "trastuzumab", "hylecta": "trastuzumab", "perjeta": "pertuzumab",
    "tukysa": "tucatinib", "tykerb": "lapatinib", "nerlynx": "neratinib", "xeloda": "capecitabine",
    "taxotere": "docetaxel", "docefrez": "docetaxel", "abraxane": "paclitaxel", "halaven": "eribulin",
    "navelbine": "vinorelbine", "ibrance": "palbociclib", "kisqali": "ribociclib", "verzenio": "abemaciclib",
    "femara": "letrozole", "arimidex": "anastrozole", "aromasin": "exemestane", "faslodex": "fulvestrant",
    "nolvadex": "tamoxifen", "soltamox": "tamoxifen", "zoladex": "goserelin", "lupron": "leuprorelin",
    "leuprolide": "leuprorelin", "afinitor": "everolimus", "margenza": "margetuximab",
}
#: Products whose name decides the drug before any ingredient word (an ADC's name contains "trastuzumab").
_PRODUCTS = (
    (("deruxtecan", "enhertu"), ("trastuzumab deruxtecan",)),
    (("emtansine", "kadcyla"), ("trastuzumab emtansine",)),
    (("phesgo",), ("pertuzumab", "trastuzumab")),
)
#: Ingredient names outside the contract that a record may hold (recognised, then left out with a note).
NON_CONTRACT = ("alpelisib", "olaparib", "talazoparib", "zoledronic acid", "denosumab", "hyaluronidase")


def drugs_from_text(text: str) -> tuple[str, ...]:
    """Contract INNs named in an RxNorm display or a free-text drug name (products first, then words).

    >>> drugs_from_text("Trastuzumab Injection [Enhertu]")
    ('trastuzumab deruxtecan',)
    >>> drugs_from_text("Hyaluronidase / pertuzumab / trastuzumab Injection")
    ('pertuzumab', 'trastuzumab')
    """
    from mbcpath.domain.drugs import KNOWN_DRUGS

    low = text.lower()
    for words, inns in _PRODUCTS:
        if any(w in low for w in words):
            return inns
    found: list[str] = []
    for name in sorted(KNOWN_DRUGS, key=len, reverse=True):
        if re.search(rf"\b{re.escape(name)}\b", low) and not any(name in f for f in found):
            found.append(name)
    for brand, inn in BRANDS.items():
        if re.search(rf"\b{brand}\b", low) and inn not in found:
            found.append(inn)
    return tuple(sorted(found))


def non_contract_drug(text: str) -> str | None:
    """The name of a recognised drug outside the contract in ``text``, if any."""
    low = text.lower()
    return next((n for n in NON_CONTRACT if n in low), None)


@dataclass(frozen=True)
class RxEntry:
    """One RxNorm concept mapped to contract INNs (empty: a drug outside the contract)."""

    code: str
    display: str
    drugs: tuple[str, ...]
    source: str


DATA = Path(__file__).resolve().parent / "data"


@cache
def rxnorm_map() -> dict[str, RxEntry]:
    """RxCUI -> :class:`RxEntry`, from ``data/rxnorm_inn.json`` (built by scripts/build_rxnorm_map.py)."""
    raw = json.loads((DATA / "rxnorm_inn.json").read_text(encoding="utf-8"))
    return {k: RxEntry(k, v["display"], tuple(v["drugs"]), v["source"]) for k, v in raw["codes"].items()}


@cache
def rxnorm_for(inn: str) -> dict[str, list[str]]:
    """For one INN: RxCUIs of its single-ingredient concepts, grouped 'ingredient' / 'clinical' / 'brand'."""
    out: dict[str, list[str]] = {"ingredient": [], "clinical": [], "brand": []}
    for e in rxnorm_map().values():
        if e.drugs != (inn,):
            continue
        low = e.display.lower()
        if "[" in e.display or low.split()[0] in BRANDS:
            out["brand"].append(e.code)
        elif low == inn or low.replace("-", " ") == inn or low in ("leuprolide", "ado-trastuzumab emtansine"):
            out["ingredient"].append(e.code)
        elif " mg" in low:
            out["clinical"].append(e.code)
    return out
