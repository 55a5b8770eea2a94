"""Draw KB numbers at random for a re-verification audit (kb/AUDIT.md).

Usage: python scripts/audit_draw.py SEED N
Every numeric value of every endpoint record (medians, rates, HR and CI bounds) is a candidate;
the draw is random.Random(SEED).sample over the sorted candidate list, so it is reproducible.
"""

from __future__ import annotations

import random
import sys

from mbcpath.kb import load_kb


def candidates() -> list[tuple[str, str, str, float]]:
    out = []
    for t in sorted(load_kb().trials.values(), key=lambda x: x.id):
        for e in t.endpoints:
            label = f"{e.endpoint} ({e.analysis})"
            out += [(t.id, label, f"median {arm}", v) for arm, v in sorted(e.medians.items())
                    if isinstance(v, float | int)]
            out += [(t.id, label, f"rate {arm}", v) for arm, v in sorted(e.rates.items())]
            if e.hr is not None:
                out.append((t.id, label, "HR", e.hr))
            if e.hr_ci95:
                out += [(t.id, label, "HR CI low", e.hr_ci95[0]), (t.id, label, "HR CI high", e.hr_ci95[1])]
    return out


def main() -> None:
    seed, n = int(sys.argv[1]), int(sys.argv[2])
    pool = candidates()
    for i, (trial, label, what, value) in enumerate(random.Random(seed).sample(pool, n), 1):  # noqa: S311 - a reproducible draw
        print(f"{i}\t{trial}\t{label}\t{what}\t{value}")
    print(f"# {len(pool)} candidates, seed {seed}", file=sys.stderr)


if __name__ == "__main__":
    main()
