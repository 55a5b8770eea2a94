"""Brand names, abbreviations and alternative names of the vocabulary's drugs (lower case -> INNs).

Pure data. A fixed-dose combination maps to every INN it contains (Phesgo: pertuzumab + trastuzumab).
A different product is never mapped silently (nab-paclitaxel is not paclitaxel).
"""

from __future__ import annotations

SYNONYMS: dict[str, tuple[str, ...]] = {
    "herceptin": ("trastuzumab",),
    "herceptin hylecta": ("trastuzumab",),
    "perjeta": ("pertuzumab",),
    "phesgo": ("pertuzumab", "trastuzumab"),
    "enhertu": ("trastuzumab deruxtecan",),
    "t-dxd": ("trastuzumab deruxtecan",),
    "tdxd": ("trastuzumab deruxtecan",),
    "fam-trastuzumab deruxtecan-nxki": ("trastuzumab deruxtecan",),
    "kadcyla": ("trastuzumab emtansine",),
    "t-dm1": ("trastuzumab emtansine",),
    "tdm1": ("trastuzumab emtansine",),
    "ado-trastuzumab emtansine": ("trastuzumab emtansine",),
    "tukysa": ("tucatinib",),
    "nerlynx": ("neratinib",),
    "tykerb": ("lapatinib",),
    "tyverb": ("lapatinib",),
    "margenza": ("margetuximab",),
    "taxotere": ("docetaxel",),
    "taxol": ("paclitaxel",),
    "navelbine": ("vinorelbine",),
    "xeloda": ("capecitabine",),
    "halaven": ("eribulin",),
    "femara": ("letrozole",),
    "arimidex": ("anastrozole",),
    "aromasin": ("exemestane",),
    "faslodex": ("fulvestrant",),
    "nolvadex": ("tamoxifen",),
    "ibrance": ("palbociclib",),
    "kisqali": ("ribociclib",),
    "verzenio": ("abemaciclib",),
    "verzenios": ("abemaciclib",),
    "zoladex": ("goserelin",),
    "lupron": ("leuprorelin",),
    "leuprolide": ("leuprorelin",),
    "afinitor": ("everolimus",),
}
