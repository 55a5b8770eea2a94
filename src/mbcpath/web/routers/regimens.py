"""``GET /regimens`` and ``GET /regimens/{id}``: regimens with components and safety."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.exceptions import HTTPException

from mbcpath.kb.models import Regimen
from mbcpath.web.deps import KbDep
from mbcpath.web.schemas import Problem, RegimenListOut

router = APIRouter(prefix="/regimens", tags=["regimens"])


@router.get("", response_model=RegimenListOut, summary="List regimens")
async def list_regimens(kb: KbDep) -> RegimenListOut:
    """Every regimen of the knowledge base, sorted by id."""
    regs = [kb.regimens[k] for k in sorted(kb.regimens)]
    return RegimenListOut(kb_release=kb.release.kb_release, count=len(regs), regimens=regs)


@router.get("/{regimen_id}", response_model=Regimen, summary="One regimen",
            responses={404: {"model": Problem, "content": {"application/problem+json": {}}}})
async def get_regimen(regimen_id: str, kb: KbDep) -> Regimen:
    """A regimen by id (case-insensitive)."""
    reg = kb.regimens.get(regimen_id.lower())
    if reg is None:
        raise HTTPException(404, f"no regimen with id {regimen_id[:80]!r}; GET /api/v1/regimens lists them")
    return reg
