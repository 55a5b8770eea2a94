"""``GET /kb``: release stamp and a summary of the knowledge base's sources."""

from __future__ import annotations

from fastapi import APIRouter

from mbcpath.web.deps import KbDep
from mbcpath.web.schemas import KbOut
from mbcpath.web.services import kb_summary

router = APIRouter(prefix="/kb", tags=["knowledge base"])


@router.get("", response_model=KbOut, summary="Knowledge base release and sources")
async def get_kb_summary(kb: KbDep) -> KbOut:
    """Release, counts of records, and how many sources/endpoints are verified or not."""
    return kb_summary(kb)
