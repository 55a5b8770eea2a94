"""``GET /healthz``: liveness, cheap enough to be the benchmark's baseline."""

from __future__ import annotations

from fastapi import APIRouter, Request

from mbcpath.web.schemas import HealthOut

router = APIRouter(tags=["health"])


def _version() -> str:
    from mbcpath.web import __version__

    return __version__


@router.get("/healthz", response_model=HealthOut, summary="Liveness check")
async def healthz(request: Request) -> HealthOut:
    """The process is up. Does not touch the knowledge base or any patient data.

    ``audit`` is ``off`` (no trail configured), ``ok``, or ``failing`` (the last write failed: answers
    are refused or sent unrecorded, as the deployment's policy says).
    """
    trail = getattr(request.app.state, "audit", None)
    audit = "off" if trail is None else ("failing" if trail.failing else "ok")
    return HealthOut(version=_version(), audit=audit)
