"""Build src/mbcpath/interop/data/rxnorm_inn.json: RxCUI -> contract INNs.

Inputs (copies with source and licence in tests/data/interop/mcode/README.md):
- tests/data/interop/mcode/terminology/ctm-app-rxnorm-her2-mbc-subset.json (mcode/clinical-trial-matching-app,
  Apache-2.0): 347 RxNorm rows. Its ``category`` column is NOT used: it files "Trastuzumab Injection [Enhertu]"
  under trastuzumab. Each row is mapped from its display by :func:`mbcpath.interop.codes.drugs_from_text`
  (product names first: Enhertu/deruxtecan, Kadcyla/emtansine, Phesgo; then ingredient and brand words).
- the ``rxnorm`` rows of tests/data/interop/mcode/her2-mbc-codes.json with status verified-in-source or
  seen-in-public-code, and the RxCUIs used by the official mCODE STU4 examples.

Run: .venv/bin/python scripts/build_rxnorm_map.py
"""

from __future__ import annotations

import json
from pathlib import Path

from mbcpath.interop.codes import drugs_from_text, non_contract_drug

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "interop" / "mcode"
OUT = ROOT / "src" / "mbcpath" / "interop" / "data" / "rxnorm_inn.json"
CTM = "mcode/clinical-trial-matching-app@4891254e9f80edca25aa8041ed93f92990b7c3aa (Apache-2.0)"
#: RxCUIs of the official mCODE STU4 examples (hl7.fhir.us.mcode 4.0.0, CC0-1.0) and of the legacy bundles.
EXAMPLES = {
    "3002": "cyclophosphamide", "3639": "DOXOrubicin", "56946": "PACLitaxel", "84857": "anastrozole",
    "309311": "cisplatin 1 MG/ML Injectable Solution", "1790099": "10 ML doxorubicin hydrochloride 2 MG/ML Injection",
    "1163443": "leuprolide Injectable Product", "1156253": "zoledronic acid Injectable Product",
    "1156710": "gemcitabine Injectable Product", "2169297": "alpelisib Oral Product",
}


def main() -> None:
    codes: dict[str, dict[str, object]] = {}
    for row in json.loads((DATA / "terminology" / "ctm-app-rxnorm-her2-mbc-subset.json").read_text()):
        codes[row["code"]] = _entry(row["display"], CTM)
    table = json.loads((DATA / "her2-mbc-codes.json").read_text())
    for row in table["rxnorm"]:
        if row["status"] in ("verified-in-source", "seen-in-public-code") and row["code"].isdigit():
            codes.setdefault(row["code"], _entry(row["display"], "her2-mbc-codes.json: " + row["source"]))
    for code, display in EXAMPLES.items():
        codes.setdefault(code, _entry(display, "hl7.fhir.us.mcode@4.0.0 examples / ctm-app legacy bundles"))
    unmapped = [f"{k} {v['display']}" for k, v in codes.items() if not v["drugs"] and not v.get("outside")]
    if unmapped:
        raise SystemExit("unmapped RxNorm rows: " + "; ".join(unmapped))
    OUT.write_text(json.dumps({"built_by": "scripts/build_rxnorm_map.py", "codes": dict(sorted(codes.items()))},
                              indent=1, sort_keys=True) + "\n")
    print(f"{len(codes)} RxNorm concepts -> {OUT.relative_to(ROOT)}")


def _entry(display: str, source: str) -> dict[str, object]:
    drugs = list(drugs_from_text(display))
    out: dict[str, object] = {"display": display, "drugs": drugs, "source": source}
    if not drugs and non_contract_drug(display):
        out["outside"] = non_contract_drug(display)
    return out


if __name__ == "__main__":
    main()
