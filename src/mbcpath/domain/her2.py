"""HER2 status from IHC and ISH, per ASCO/CAP (one definition, used by validation and facts)."""

from __future__ import annotations

from typing import Literal

Her2Status = Literal["positive", "negative", "unresolved"]


def her2_status(ihc: str | None, ish: str | None) -> Her2Status:
    """ASCO/CAP reading: 'positive', 'negative' or 'unresolved'.

    IHC 3+ or ISH amplified is positive; IHC 2+ (or no IHC) without a conclusive ISH is
    unresolved (reflex ISH needed); IHC 0/1+, or ISH not amplified, is negative.

    References
    ----------
    Wolff AC et al. Human epidermal growth factor receptor 2 testing in breast cancer: ASCO/CAP
        clinical practice guideline focused update. J Clin Oncol 2018;36:2105-22; affirmed
        J Clin Oncol 2023;41:3867-72.
    """
    if ihc == "3+" or ish == "amplified":
        return "positive"
    if ish == "not_amplified":
        return "negative"
    if ihc in ("0", "1+"):
        return "negative"
    return "unresolved"
