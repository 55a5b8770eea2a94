"""Dependency audit for `make lint`: pip-audit over the installed environment, honest about what it could check.

pip-audit needs a vulnerability database from the network (PyPI's per-release JSON, or OSV). Where that
cannot be reached, pip-audit itself reports each package as "could not be audited" and still exits 0; this
script reads its JSON report instead of its exit code and says plainly how many packages were really
checked. Outcomes:

* vulnerabilities found: they are listed, exit 1;
* every package checked, none vulnerable: "dependency audit: N packages checked, no known vulnerabilities";
* the service could not be reached (or answered for no package): "DEPENDENCY AUDIT NOT RUN", exit 0, or
  exit 1 when MBCPATH_AUDIT_STRICT=1 (set it where the network is reachable, so a broken audit fails);
* partly checked: the unchecked packages are named, same exit rule.

No offline vulnerability database is available as a package here (checked: pip-audit and osv have none;
safety-db's bundled data stops in 2021, which would be false comfort), so there is no offline fallback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SERVICES = ("pypi", "osv")
TIMEOUT_S = 300


def run_pip_audit(service: str) -> tuple[dict | None, str]:
    exe = Path(sys.executable).with_name("pip-audit")
    cmd = [str(exe), "--skip-editable", "--format", "json", "--progress-spinner", "off",
           "--vulnerability-service", service, "--timeout", "20"]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return None, f"{service}: {type(err).__name__}: {err}"
    try:
        return json.loads(res.stdout), ""
    except json.JSONDecodeError:
        last = (res.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"{service}: {last[:300]}"


def summarise(report: dict) -> tuple[list[str], list[str], int]:
    vulnerable, unchecked = [], []
    deps = report.get("dependencies", [])
    for d in deps:
        name = f"{d.get('name')} {d.get('version', '?')}"
        if d.get("skip_reason"):
            unchecked.append(name)
        for v in d.get("vulns", []):
            fixes = ", ".join(v.get("fix_versions", [])) or "no fixed version"
            vulnerable.append(f"{name}: {v.get('id')} (fixed in: {fixes})")
    return vulnerable, unchecked, len(deps)


def main() -> int:
    strict = os.environ.get("MBCPATH_AUDIT_STRICT") == "1"
    reasons = []
    for service in SERVICES:
        report, why = run_pip_audit(service)
        if report is None:
            reasons.append(why)
            continue
        vulnerable, unchecked, total = summarise(report)
        if vulnerable:
            print(f"dependency audit ({service}): {len(vulnerable)} known vulnerabilities:")
            print("\n".join(f"  {v}" for v in vulnerable))
            return 1
        if len(unchecked) < total:
            checked = total - len(unchecked)
            print(f"dependency audit ({service}): {checked} of {total} packages checked, no known vulnerabilities")
            if unchecked:
                print(f"  NOT CHECKED ({len(unchecked)}): {', '.join(unchecked)}")
                return 1 if strict else 0
            return 0
        reasons.append(f"{service}: the service answered for none of the {total} packages")
    print("DEPENDENCY AUDIT NOT RUN: no vulnerability database could be reached from this machine "
          f"({'; '.join(reasons)}). It runs where PyPI's JSON API or OSV is reachable; set MBCPATH_AUDIT_STRICT=1 "
          "there to make this a failure.")
    return 1 if strict else 0


if __name__ == "__main__":
    sys.exit(main())
