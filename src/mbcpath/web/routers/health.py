"""``GET /healthz``: liveness, cheap enough to be the benchmark's baseline."""

from __future__ import annotations

from fastapi import APIRouter

from mbcpath.web.schemas import HealthOut

router = APIRouter(tags=["health"])


def _version() -> str:
    from mbcpath.web import __version__

    return __version__


@router.get("/healthz", response_model=HealthOut, summary="Liveness check")
async def healthz() -> HealthOut:
    """The process is up. Does not touch the knowledge base or any patient data."""
    return HealthOut(version=_version())
