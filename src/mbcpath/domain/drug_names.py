"""Drug names as clinicians write them: brand names, abbreviations and alternative names -> INNs.

Pure data (no project imports). Keys are lower-case; each value is the tuple of lower-case INNs of
the drug vocabulary (:data:`mbcpath.domain.drugs.DRUG_CLASSES`) that the name stands for; a
fixed-dose combination maps to several INNs (Phesgo -> pertuzumab + trastuzumab). A name that
denotes a *different product* is deliberately absent, so that it is refused rather than silently
mapped: nab-paclitaxel (Abraxane) is not paclitaxel, liposomal doxorubicin (Doxil, Caelyx, Myocet)
is not doxorubicin, and trastuzumab deruxtecan / trastuzumab emtansine are not trastuzumab.

Each entry's comment names where the name was found (stored copies of labels, registries and
drug references read for ``kb/sources/labels.yaml``; keys there are given where one exists).
"""

from __future__ import annotations

SYNONYMS: dict[str, tuple[str, ...]] = {
    # ---------------------------------------------------------------- trastuzumab and biosimilars
    "herceptin": ("trastuzumab",),  # openFDA SPL, brand_name HERCEPTIN (LBL-HERCEPTIN-1)
    "herceptin hylecta": ("trastuzumab",),  # openFDA SPL "Herceptin Hylecta trastuzumab and hyaluronidase-oysk"
    "trastuzumab and hyaluronidase-oysk": ("trastuzumab",),  # same openFDA SPL record
    "herceptin sc": ("trastuzumab",),  # MIMS Thailand "Herceptin/Herceptin SC" (LBL-HERCEPTIN-5)
    "ogivri": ("trastuzumab",),  # openFDA SPL "OGIVRI trastuzumab-dkst"
    "trastuzumab-dkst": ("trastuzumab",),  # same record
    "trazimera": ("trastuzumab",),  # openFDA SPL "Trazimera trastuzumab-qyyp"
    "trastuzumab-qyyp": ("trastuzumab",),  # same record
    "kanjinti": ("trastuzumab",),  # openFDA SPL "Kanjinti trastuzumab-anns"
    "trastuzumab-anns": ("trastuzumab",),  # same record
    "herzuma": ("trastuzumab",),  # openFDA NDC 63459-303 brand HERZUMA; EU ePI EU/1/17/1257
    "trastuzumab-pkrb": ("trastuzumab",),  # FDA nonproprietary name of Herzuma (suffix not seen in stored text)
    "ontruzant": ("trastuzumab",),  # openFDA NDC 78206-147 brand Ontruzant; EU ePI EU/1/17/1241
    "trastuzumab-dttb": ("trastuzumab",),  # FDA nonproprietary name of Ontruzant (suffix not seen in stored text)
    "hercessi": ("trastuzumab",),  # openFDA NDC 69448-015 "HERCESSI trastuzumab-strf"
    "trastuzumab-strf": ("trastuzumab",),  # same record
    "zuhera": ("trastuzumab",),  # MIMS Malaysia trastuzumab prescribing information "Zuhera"
    # ---------------------------------------------------------------- pertuzumab, combinations
    "perjeta": ("pertuzumab",),  # openFDA SPL PERJETA (LBL-PERJETA-1)
    "phesgo": ("pertuzumab", "trastuzumab"),  # openFDA SPL "Phesgo pertuzumab, trastuzumab, and hyaluronidase-zzxf"
    "pertuzumab, trastuzumab, and hyaluronidase-zzxf": ("pertuzumab", "trastuzumab"),  # same record
    # ---------------------------------------------------------------- other anti-HER2 antibodies
    "margenza": ("margetuximab",),  # openFDA SPL "MARGENZA margetuximab-cmkb" (LBL-MARGENZA-1)
    "margetuximab-cmkb": ("margetuximab",),  # same record
    "ziihera": ("zanidatamab",),  # ZIIHERA US label 2024 (LBL-ZIIHERA-1)
    "zanidatamab-hrii": ("zanidatamab",),  # same label
    # ---------------------------------------------------------------- antibody-drug conjugates
    "enhertu": ("trastuzumab deruxtecan",),  # ENHERTU HCP site (ENH-1)
    "fam-trastuzumab deruxtecan-nxki": ("trastuzumab deruxtecan",),  # FDA approval note (FDA-2)
    "fam-trastuzumab deruxtecan": ("trastuzumab deruxtecan",),  # Lexicomp monograph title (LBL-ENHERTU-4)
    "t-dxd": ("trastuzumab deruxtecan",),  # CancerNetwork "FDA approves T-DXd plus pertuzumab" (FDA-1)
    "tdxd": ("trastuzumab deruxtecan",),  # spelling of T-DXd without hyphen (FDA-1)
    "ds-8201": ("trastuzumab deruxtecan",),  # development code DS-8201(a), clinicaltrials.eu DESTINY-Breast06 listing
    "ds-8201a": ("trastuzumab deruxtecan",),  # "code name DS-8201a" (clinicaltrials.eu; Houston Methodist)
    "kadcyla": ("trastuzumab emtansine",),  # openFDA SPL "KADCYLA ado-trastuzumab emtansine" (LBL-KADCYLA-1)
    "ado-trastuzumab emtansine": ("trastuzumab emtansine",),  # same record
    "t-dm1": ("trastuzumab emtansine",),  # DESTINY-Breast01 update abstract (PMC11322859) and kb/trials
    "tdm1": ("trastuzumab emtansine",),  # spelling of T-DM1 without hyphen
    "tdm-1": ("trastuzumab emtansine",),  # spelling in the SAFE-HEaRt abstract (CARDIO-1)
    # ---------------------------------------------------------------- HER2 tyrosine kinase inhibitors
    "tukysa": ("tucatinib",),  # TUKYSA US label (LBL-TUKYSA-1)
    "nerlynx": ("neratinib",),  # NERLYNX labels (LBL-NERLYNX-1)
    "tykerb": ("lapatinib",),  # TYKERB US label (LBL-TYKERB-1)
    "tyverb": ("lapatinib",),  # Tyverb (EU/Swiss brand), compendium.ch notice on lapatinib QTc
    "艾瑞妮": ("pyrotinib",),  # Chinese brand in the NMPA label (LBL-PYROTINIB-1)
    "airuini": ("pyrotinib",),  # pinyin of the brand 艾瑞妮 (LBL-PYROTINIB-1)
    # ---------------------------------------------------------------- cytotoxics
    "taxotere": ("docetaxel",),  # Drugs.com docetaxel pregnancy page "Docefrez, Taxotere" (LBL-TAXOTERE-4)
    "docefrez": ("docetaxel",),  # DOCEFREZ US label copy (LBL-TAXOTERE-3)
    "taxol": ("paclitaxel",),  # Medscape "Taxol (paclitaxel)" (LBL-TAXOL-1); not nab-paclitaxel (Abraxane)
    "navelbine": ("vinorelbine",),  # NAVELBINE US label (LBL-NAVELBINE-1)
    "xeloda": ("capecitabine",),  # XELODA US label (LBL-XELODA-1)
    "halaven": ("eribulin",),  # HALAVEN US label (LBL-HALAVEN-1)
    "eribulin mesylate": ("eribulin",),  # salt name in the HALAVEN label (LBL-HALAVEN-1)
    "eribulin mesilate": ("eribulin",),  # EU salt name (HALAVEN SmPC, LBL-HALAVEN-2)
    "paraplatin": ("carboplatin",),  # Drugs.com "Paraplatin (carboplatin)"
    "platinol": ("cisplatin",),  # RxList/GlobalRPh "Platinol" (LBL-CISPLATIN-1)
    "cytoxan": ("cyclophosphamide",),  # US brand of cyclophosphamide (listed in the brief; not seen in stored text)
    "adriamycin": ("doxorubicin",),  # Medscape "doxorubicin: Adriamycin" (LBL-DOXO-3); not liposomal doxorubicin
    "ellence": ("epirubicin",),  # ELLENCE US label (LBL-ELLENCE-3)
    "pharmorubicin": ("epirubicin",),  # MIMS Malaysia "Pharmorubicin" (LBL-ELLENCE-4)
    "gemzar": ("gemcitabine",),  # Gemzar US label copy (120ty); Pfizer gemcitabine label (LBL-GEMZAR-1)
    "infugem": ("gemcitabine",),  # INFUGEM US label (GlobalRPh)
    "adrucil": ("fluorouracil",),  # ADRUCIL US label (LBL-5FU-1)
    "5-fu": ("fluorouracil",),  # abbreviation in the docetaxel label indications "5-fluorouracil (5-FU)"
    "5fu": ("fluorouracil",),  # spelling of 5-FU without hyphen
    "5-fluorouracil": ("fluorouracil",),  # docetaxel label indications (MIMS Philippines)
    # ---------------------------------------------------------------- endocrine therapy
    "femara": ("letrozole",),  # FEMARA US label (LBL-FEMARA-1)
    "arimidex": ("anastrozole",),  # ARIMIDEX US label (LBL-ARIMIDEX-1)
    "aromasin": ("exemestane",),  # AROMASIN US label (LBL-AROMASIN-1)
    "faslodex": ("fulvestrant",),  # FASLODEX labels (LBL-FASLODEX-1)
    "nolvadex": ("tamoxifen",),  # PDR "Nolvadex (tamoxifen)"
    "soltamox": ("tamoxifen",),  # SOLTAMOX US safety information (LBL-SOLTAMOX-1)
    # ---------------------------------------------------------------- CDK4/6 inhibitors, mTOR
    "ibrance": ("palbociclib",),  # IBRANCE labels (LBL-IBRANCE-1)
    "kisqali": ("ribociclib",),  # KISQALI labels (KIS-1)
    "verzenio": ("abemaciclib",),  # VERZENIO US label (LBL-VERZENIO-3)
    "verzenios": ("abemaciclib",),  # Verzenios EU/UK brand (LBL-VERZENIO-1)
    "afinitor": ("everolimus",),  # AFINITOR US label (LBL-AFINITOR-1)
    # ---------------------------------------------------------------- ovarian function suppression
    "zoladex": ("goserelin",),  # ZOLADEX labels (LBL-ZOLADEX-1)
    "lupron": ("leuprorelin",),  # PDR "Lupron (leuprolide acetate)"
    "lupron depot": ("leuprorelin",),  # PDR "Lupron Depot"
    "eligard": ("leuprorelin",),  # PDR leuprolide brand list "Eligard, Fensolv, Lupron, Lupron Depot"
    "leuprolide": ("leuprorelin",),  # US adopted name of leuprorelin (PDR)
    "leuprolide acetate": ("leuprorelin",),  # PDR
    "leuprorelin acetate": ("leuprorelin",),  # Swiss label "Leuprorelinacetat" (LBL-LEUPRORELIN-1)
    "trelstar": ("triptorelin",),  # PDR "Trelstar (triptorelin pamoate)"
    "decapeptyl": ("triptorelin",),  # Decapeptyl prescribing information (LBL-DECAPEPTYL-1)
}
