"""FastAPI dependencies and their ``Annotated`` aliases.

Routers declare what they need (``kb: KbDep``, ``engine: EngineDep``) and tests
override one dependency at a time (``app.dependency_overrides[get_kb] = ...``).
The engine and the projections are imported lazily: a missing one answers 503
problem details naming what is missing, instead of failing the whole app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from mbcpath.kb import KnowledgeBase, load_kb
from mbcpath.web.audit import AuditTrail
from mbcpath.web.offload import Offloader
from mbcpath.web.settings import Settings


class FeatureUnavailable(Exception):
    """An optional part of mbcpath (engine, projections) cannot be imported."""

    def __init__(self, feature: str, detail: str) -> None:
        self.feature = feature
        self.detail = detail
        super().__init__(f"{feature}: {detail}")


# Dependencies are ``async def``: they never block, and FastAPI would otherwise hand each
# sync dependency to a worker thread on every request (a thread hop per dependency).
async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_kb(settings: SettingsDep) -> KnowledgeBase:
    """The validated knowledge base the app started with, or the last release that reloaded whole
    (:func:`mbcpath.kb.loader.reload_kb`). Loaded at start-up, so this never reads files."""
    return load_kb(settings.kb_path)


KbDep = Annotated[KnowledgeBase, Depends(get_kb)]


def serving(request: Request) -> tuple[KnowledgeBase, Offloader, AuditTrail | None]:
    """The KB, the workers and the audit trail of an answer route, in one call.

    Plain attribute reads instead of three FastAPI dependencies: each resolved dependency costs tens of
    microseconds per request, a measurable share of an answer (bench/bench_http.py).
    """
    state = request.app.state
    return load_kb(state.settings.kb_path), state.offload, state.audit


async def get_offload(request: Request) -> Offloader:
    """Worker threads and processes with the per-request time budget (for routes that compute, such as the
    page routers: ``await offload.run_thread(recommend_for, data, kb, engine)``)."""
    return request.app.state.offload  # type: ignore[no-any-return]


OffloadDep = Annotated[Offloader, Depends(get_offload)]

Recommender = Callable[..., Any]
Projector = Callable[..., Any]


def load_engine() -> Recommender:
    """``mbcpath.engine.recommend``, imported on first use."""
    try:
        from mbcpath.engine import recommend
    except ImportError as err:
        raise FeatureUnavailable("engine", f"the decision engine cannot be imported ({err})") from None
    return recommend  # type: ignore[no-any-return]


async def get_engine() -> Recommender:
    """The engine as a dependency (see :func:`load_engine`)."""
    return load_engine()


EngineDep = Annotated[Recommender, Depends(get_engine)]


def load_projector() -> Projector:
    """``mbcpath.survival.service.project_recommendation`` (thread-safe; fits come from the checked-in
    artefact, prepared at start-up), imported on first use."""
    try:
        from mbcpath.survival.service import project_recommendation
    except ImportError as err:
        raise FeatureUnavailable(
            "projections", f"survival projections are not available ({err}); "
            "install them with: pip install 'mbcpath[survival]'") from None
    return project_recommendation


async def get_projector() -> Projector:
    """The projections as a dependency (see :func:`load_projector`)."""
    return load_projector()


ProjectorDep = Annotated[Projector, Depends(get_projector)]


async def get_templates(request: Request) -> Jinja2Templates:
    return request.app.state.templates  # type: ignore[no-any-return]


TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
