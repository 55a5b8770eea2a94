"""Drug vocabulary: lower-case INN names and their contract classes.

An unknown drug name is an error, never ignored: a silent typo would switch
safety rules off. :func:`closest_drugs` proposes the nearest known names.
"""

from __future__ import annotations

import difflib
from enum import StrEnum


class DrugClass(StrEnum):
    """Component classes of the exchange contract."""

    ANTI_HER2_ANTIBODY = "anti_her2_antibody"
    HER2_ADC = "her2_adc"
    HER2_TKI = "her2_tki"
    TAXANE = "taxane"
    CHEMOTHERAPY = "chemotherapy"
    AROMATASE_INHIBITOR = "aromatase_inhibitor"
    SERD = "serd"
    SERM = "serm"
    CDK46_INHIBITOR = "cdk46_inhibitor"
    OFS = "ofs"
    MTOR_INHIBITOR = "mtor_inhibitor"
    LOCAL_THERAPY = "local_therapy"


#: Every drug the contract names, plus the chemotherapy agents it requires.
DRUG_CLASSES: dict[str, DrugClass] = {
    "trastuzumab": DrugClass.ANTI_HER2_ANTIBODY,
    "pertuzumab": DrugClass.ANTI_HER2_ANTIBODY,
    "margetuximab": DrugClass.ANTI_HER2_ANTIBODY,
    "trastuzumab deruxtecan": DrugClass.HER2_ADC,
    "trastuzumab emtansine": DrugClass.HER2_ADC,
    "tucatinib": DrugClass.HER2_TKI,
    "lapatinib": DrugClass.HER2_TKI,
    "neratinib": DrugClass.HER2_TKI,
    "pyrotinib": DrugClass.HER2_TKI,
    "docetaxel": DrugClass.TAXANE,
    "paclitaxel": DrugClass.TAXANE,
    "vinorelbine": DrugClass.CHEMOTHERAPY,
    "capecitabine": DrugClass.CHEMOTHERAPY,
    "eribulin": DrugClass.CHEMOTHERAPY,
    "carboplatin": DrugClass.CHEMOTHERAPY,
    "cisplatin": DrugClass.CHEMOTHERAPY,
    "cyclophosphamide": DrugClass.CHEMOTHERAPY,
    "doxorubicin": DrugClass.CHEMOTHERAPY,
    "epirubicin": DrugClass.CHEMOTHERAPY,
    "gemcitabine": DrugClass.CHEMOTHERAPY,
    "fluorouracil": DrugClass.CHEMOTHERAPY,
    "methotrexate": DrugClass.CHEMOTHERAPY,
    "letrozole": DrugClass.AROMATASE_INHIBITOR,
    "anastrozole": DrugClass.AROMATASE_INHIBITOR,
    "exemestane": DrugClass.AROMATASE_INHIBITOR,
    "fulvestrant": DrugClass.SERD,
    "tamoxifen": DrugClass.SERM,
    "palbociclib": DrugClass.CDK46_INHIBITOR,
    "ribociclib": DrugClass.CDK46_INHIBITOR,
    "abemaciclib": DrugClass.CDK46_INHIBITOR,
    "goserelin": DrugClass.OFS,
    "leuprorelin": DrugClass.OFS,
    "triptorelin": DrugClass.OFS,
    "everolimus": DrugClass.MTOR_INHIBITOR,
    "giredestrant": DrugClass.SERD,
    "zanidatamab": DrugClass.ANTI_HER2_ANTIBODY,
}

#: Classes that count as chemotherapy for a patient who declines it
#: (antibody-drug conjugates included, per domain.md section 4.1).
CHEMOTHERAPY_CLASSES = frozenset({DrugClass.TAXANE, DrugClass.CHEMOTHERAPY, DrugClass.HER2_ADC})
ENDOCRINE_CLASSES = frozenset({DrugClass.AROMATASE_INHIBITOR, DrugClass.SERD, DrugClass.SERM})
ANTI_HER2_CLASSES = frozenset({DrugClass.ANTI_HER2_ANTIBODY, DrugClass.HER2_ADC, DrugClass.HER2_TKI})

KNOWN_DRUGS = frozenset(DRUG_CLASSES)


def normalise_drug(name: str) -> tuple[tuple[str, ...], str | None]:
    """The INN(s) a written drug name stands for, and a note when it was not already an INN.

    Case and surrounding spaces are ignored; brand names, abbreviations and biosimilar suffixes
    (``trastuzumab-dkst``) are read through :data:`mbcpath.domain.drug_names.SYNONYMS`. An unknown
    name returns ``((), None)``: the caller refuses it.
    """
    from mbcpath.domain.drug_names import SYNONYMS

    key = " ".join(name.strip().lower().split())
    if key in KNOWN_DRUGS:
        return (key,), (None if key == name else f"{name!r} read as {key}")
    hit = SYNONYMS.get(key) or SYNONYMS.get(key.replace(" ", "-"))
    if hit is None and key.startswith("trastuzumab-") and len(key) == len("trastuzumab-xxxx"):
        hit = ("trastuzumab",)  # US biosimilar naming: INN + four-letter suffix
    if hit is None:
        return (), None
    return hit, f"{name!r} read as {' + '.join(hit)}"


def drug_class(name: str) -> DrugClass:
    """Return the class of a known drug; raise ``KeyError`` for an unknown one."""
    return DRUG_CLASSES[name]


def closest_drugs(name: str, n: int = 3) -> list[str]:
    """Known drug names closest to ``name`` (for 'did you mean' messages)."""
    return difflib.get_close_matches(name.lower().strip(), sorted(KNOWN_DRUGS), n=n, cutoff=0.6)


def unknown_drug_rule(name: str) -> str:
    """The rule text for an unknown drug name, with suggestions."""
    close = closest_drugs(name)
    hint = f"; did you mean: {', '.join(close)}?" if close else ""
    return f"unknown drug name (use a lower-case INN from the contract's list){hint}"
