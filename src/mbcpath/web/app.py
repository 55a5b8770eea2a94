"""The app factory: middleware, routers, templates, static files, OpenAPI, and the runner.

Privacy by default: no patient data is stored; the request body is never logged;
the access log is off unless ``MBCPATH_WEB_ACCESS_LOG=1`` (it then logs method, path,
status, duration and caller only); CORS is off unless an allow-list is configured.

Deployment (see the README and docs/threat-model.md): API keys (:mod:`mbcpath.web.security`),
per-client rate limits (:mod:`mbcpath.web.ratelimit`), an opt-in audit trail
(:mod:`mbcpath.web.audit`), structured JSON logs (:mod:`mbcpath.web.logs`), and CPU work off the
event loop within a time budget (:mod:`mbcpath.web.offload`). A knowledge base that does not
validate stops the start-up with the file and rule named; a reload (``SIGHUP``) that fails keeps
the release already loaded.
"""

from __future__ import annotations

import gc
import importlib.util
import ipaddress
import logging
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from mbcpath import __version__
from mbcpath.errors import ConfigurationError, KnowledgeBaseError, MbcpathError
from mbcpath.web import problems
from mbcpath.web.audit import AuditTrail
from mbcpath.web.compression import CompressionMiddleware
from mbcpath.web.logs import RequestIdMiddleware
from mbcpath.web.middleware import BodyLimitMiddleware, InternalErrorMiddleware, SecurityHeadersMiddleware
from mbcpath.web.offload import Offloader
from mbcpath.web.ratelimit import RateLimitMiddleware
from mbcpath.web.routers import (
    cds_hooks,
    cohort_ui,
    docs,
    health,
    kb,
    nma,
    pages,
    patient_ui,
    projections,
    recommendations,
    regimens,
    schema,
    smart,
    trials,
    trials_ui,
)
from mbcpath.web.security import AuthMiddleware, parse_api_keys
from mbcpath.web.settings import ENV_PREFIX, Settings

log = logging.getLogger("mbcpath.web")

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
API_PREFIX = "/api/v1"

DESCRIPTION = """\
Evidence-grounded decision support for HER2-positive metastatic breast cancer.

**Not a medical device**: every answer supports, and does not replace, a clinician's judgement,
and shows its basis (trials, guideline statements, criteria met / not met / unknown) so that it
can be reviewed independently. Nothing sent to this API is stored.

Errors are problem details (RFC 9457, `application/problem+json`) with `errors: [{field, value, rule}]`.
"""


def plotly_js_path() -> Path | None:
    """``plotly.min.js`` shipped in the plotly Python package's ``package_data`` (found without importing plotly)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        p = Path(loc) / "package_data" / "plotly.min.js"
        if p.is_file():
            return p
    return None


def _kb_context(request: Request) -> dict[str, Any]:
    """Every page shows the KB release; a KB that fails to load shows as unavailable."""
    from mbcpath.kb import load_kb

    settings: Settings = request.app.state.settings
    try:
        kb_obj = load_kb(settings.kb_path)
    except MbcpathError:
        return {"kb": None, "kb_release": "unavailable", "version": __version__}
    return {"kb": kb_obj, "kb_release": kb_obj.release.kb_release, "version": __version__}


def make_templates() -> Jinja2Templates:
    from mbcpath.web import presenters

    templates = Jinja2Templates(directory=str(TEMPLATES), context_processors=[_kb_context])
    env = templates.env
    env.trim_blocks = True
    env.lstrip_blocks = True
    presenters.register(env)
    return templates


def reload_kb(app: FastAPI) -> bool:
    """Validate the KB again and serve it if, and only if, it validates whole.

    A release that fails is logged with its file and rule, and the release already loaded keeps
    answering. Returns whether the new release is now served.
    """
    from mbcpath.kb.loader import reload_kb as _reload

    try:
        kb_obj = _reload(app.state.settings.kb_path)
    except KnowledgeBaseError as err:
        log.error("knowledge base reload refused; still serving the release loaded before",
                  extra={"event": "kb_reload_failed", "error": str(err)[:2000]})
        return False
    log.info("knowledge base reloaded", extra={"event": "kb_reloaded", "kb_release": kb_obj.release.kb_release})
    return True


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    import asyncio

    from mbcpath.kb import load_kb

    try:  # a KB that does not validate stops the start-up, naming the file and the rule
        kb_obj = load_kb(app.state.settings.kb_path)
    except KnowledgeBaseError as err:
        log.critical("knowledge base invalid: not starting", extra={"event": "kb_invalid", "error": str(err)[:2000]})
        raise
    log.info("serving", extra={"event": "start", "kb_release": kb_obj.release.kb_release, "version": __version__})
    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload_kb, app)
    except (ValueError, RuntimeError, NotImplementedError, AttributeError):
        pass  # not the main thread (tests) or no SIGHUP on this platform
    _warm_projections(kb_obj)
    # The KB and the imported modules live as long as the process: move them out of the
    # cyclic collector's generations so its full collections stay short (tail latency).
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        app.state.offload.close()


def _warm_projections(kb_obj: Any) -> None:
    """Rebuild the survival fits and networks now, so that no request waits on them."""
    try:
        from mbcpath.survival.service import warm
    except ImportError:
        return  # the survival extra is not installed: projections answer 503
    try:
        done = warm(kb_obj)
    except MbcpathError as err:
        log.warning("projections could not be prepared at start-up: %s", str(err)[:300])
        return
    if done["stale_fits"]:
        log.warning("fits artefact out of date for %d analyses (fitted at start-up); run `mbcpath kb build-fits`",
                    len(done["stale_fits"]))


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI app. ``settings`` default: :meth:`Settings.from_env`."""
    settings = settings or Settings.from_env()
    app = FastAPI(
        title="mbcpath API", version=__version__, description=DESCRIPTION, lifespan=_lifespan,
        docs_url=None, redoc_url=None, swagger_ui_oauth2_redirect_url=None,
        openapi_url="/openapi.json" if settings.docs else None,
    )
    app.state.settings = settings
    app.state.templates = make_templates()
    app.state.offload = Offloader(threads=settings.worker_threads, processes=settings.projection_processes,
                                  budget_s=settings.request_timeout_s, max_pending=settings.max_pending)
    app.state.audit = (AuditTrail(settings.audit_path, include_input=settings.audit_include_input,
                                  fsync=settings.audit_fsync) if settings.audit_path else None)
    problems.install(app)

    api = APIRouter(prefix=API_PREFIX)
    for module in (health, recommendations, projections, trials, regimens, kb, schema):
        api.include_router(module.router)
    api.include_router(nma.api_router)
    app.include_router(api)
    app.include_router(health.router, include_in_schema=False)  # unversioned /healthz for probes
    app.include_router(cds_hooks.router)  # CDS Hooks 2.0.1 (mbcpath.interop.cds)
    app.include_router(smart.router, include_in_schema=False)  # SMART App Launch (mbcpath.interop.smart)

    plotly_path = plotly_js_path()

    @app.get("/static/vendor/plotly.min.js", include_in_schema=False)
    async def plotly_js() -> Response:
        if plotly_path is None:
            return Response("/* plotly is not installed: pip install 'mbcpath[survival]' */",
                            media_type="text/javascript", status_code=404)
        return FileResponse(plotly_path, media_type="text/javascript",
                            headers={"cache-control": "public, max-age=86400"})

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for module in (pages, patient_ui, trials_ui, nma, cohort_ui):
        app.include_router(module.router, include_in_schema=False)
    if settings.docs:
        app.include_router(docs.router, include_in_schema=False)
    app.state.has_plotly = plotly_path is not None

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        _add_patient_schema(spec)
        problems.document_problems(spec, auth=bool(settings.api_keys),
                                   rate_limited=settings.effective_rate_limit()[0] > 0)
        app.openapi_schema = spec
        return spec

    app.openapi = custom_openapi  # type: ignore[method-assign]
    _add_middleware(app, settings)
    return app


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    """Outermost last: security headers, request id / access log, CORS, auth, rate limit, body limit, 500s."""
    app.add_middleware(InternalErrorMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    per_minute, burst = settings.effective_rate_limit()
    if per_minute:
        app.add_middleware(RateLimitMiddleware, per_minute=per_minute, burst=burst)
    app.add_middleware(AuthMiddleware, keys=parse_api_keys(settings.api_keys), cors_origins=settings.cors_origins)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["content-type", "authorization", "x-api-key"], allow_credentials=False,
                           max_age=600)
    app.add_middleware(CompressionMiddleware)
    app.add_middleware(RequestIdMiddleware, access_log=settings.access_log)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.hsts)


def _add_patient_schema(spec: dict[str, Any]) -> None:
    """Put the contract's Patient schema (and its parts) into ``components.schemas``."""
    from mbcpath.domain.patient import Patient

    schema = Patient.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    comps = spec.setdefault("components", {}).setdefault("schemas", {})
    for name, d in defs.items():
        comps.setdefault(name, d)
    comps["Patient"] = schema


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_deployable(settings: Settings) -> None:
    """Refuse to serve a non-loopback address without API keys (unless ``allow_unauthenticated``),
    and refuse to start on a KB that does not validate. Raises :class:`ConfigurationError` or
    :class:`KnowledgeBaseError` with the reason."""
    from mbcpath.kb import load_kb

    if not is_loopback(settings.host) and not settings.api_keys and not settings.allow_unauthenticated:
        raise ConfigurationError(
            f"refusing to serve {settings.host!r} without authentication: set MBCPATH_WEB_API_KEYS "
            "(python -m mbcpath.web.security new-key NAME), or bind 127.0.0.1, or set "
            "MBCPATH_WEB_ALLOW_UNAUTHENTICATED=1 when a proxy in front authenticates every request")
    load_kb(settings.kb_path)


def serve(host: str | None = None, port: int | None = None, **overrides: Any) -> None:
    """Run the app with uvicorn on ``host:port`` (default http://127.0.0.1:8000).

    The access log is off by default (``access_log=True`` logs method, path, status, duration and
    caller, never bodies). Raises :class:`ConfigurationError` / :class:`KnowledgeBaseError` before
    binding anything when the deployment is unsafe or the KB invalid.
    """
    import uvicorn

    from mbcpath.web.logs import configure

    values = {k: v for k, v in {"host": host, "port": port, **overrides}.items() if v is not None}
    settings = Settings.from_env(**values)
    configure(settings.log_format)
    check_deployable(settings)
    print(f"mbcpath {__version__}: http://{settings.host}:{settings.port}/  (not a medical device; "
          f"{'API keys required' if settings.api_keys else 'open: development only'}; "
          f"audit trail {'at ' + str(settings.audit_path) if settings.audit_path else 'off'})", flush=True)
    common: dict[str, Any] = {"host": settings.host, "port": settings.port, "access_log": False,
                              "server_header": False, "proxy_headers": False, "log_level": "info",
                              "log_config": None}
    if settings.workers > 1:
        # Worker processes build the app themselves from the same MBCPATH_WEB_* environment.
        for key, value in values.items():
            os.environ[ENV_PREFIX + key.upper()] = str(value)
        uvicorn.run("mbcpath.web.app:create_app", factory=True, workers=settings.workers, **common)
    else:
        uvicorn.run(create_app(settings), **common)
