"""Settings of the web adapter: one class, read from ``MBCPATH_WEB_*`` environment variables.

Defaults are the private, local ones: listen on 127.0.0.1, no access log, no CORS,
a 256 KiB request limit, no API keys (open: development only), no audit trail.
A deployment sets API keys (``MBCPATH_WEB_API_KEYS``), usually an audit trail
(``MBCPATH_WEB_AUDIT_PATH``) and a rate limit; see the README's "Deployment" section.
pydantic-settings is not a dependency, so :meth:`Settings.from_env` reads the environment itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ENV_PREFIX = "MBCPATH_WEB_"


def default_examples_dir() -> Path:
    """``examples/patients`` of the repository (or of an installed package's ``_examples``)."""
    here = Path(__file__).resolve()
    packaged = here.parents[1] / "_examples"
    if packaged.is_dir():
        return packaged
    return here.parents[3] / "examples" / "patients"


class Settings(BaseModel):
    """Every knob of the web app. Environment: ``MBCPATH_WEB_<FIELD>`` (upper case)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", description="interface uvicorn binds to")
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=16, description="uvicorn worker processes (each holds its own KB copy)")
    max_body_bytes: int = Field(256 * 1024, ge=1024, description="larger request bodies get 413")
    cohort_max_records: int = Field(2000, ge=1, le=1_000_000,
                                    description="records the cohort page reads from one upload or sample")
    cohort_audit_records: int = Field(300, ge=0, le=100_000,
                                      description="records the cohort page audits (each answered as of its date)")
    cors_origins: tuple[str, ...] = Field((), description="CORS allow-list; empty = CORS off")
    access_log: bool = Field(False, description="uvicorn access log (method, path, status; never bodies)")
    kb_path: Path | None = Field(None, description="knowledge base folder; default: mbcpath.kb.default_kb_path()")
    examples_dir: Path = Field(default_factory=default_examples_dir, description="example patients for the UI")
    docs: bool = Field(True, description="serve /docs (local API reference) and /openapi.json")
    hsts: bool = Field(False, description="send Strict-Transport-Security (only behind TLS)")
    title: str = "mbcpath"
    # --- serving: time budget and workers
    request_timeout_s: float = Field(30.0, gt=0, le=600,
                                     description="per-request time budget; past it the answer is 504 problem details")
    worker_threads: int = Field(
        2, ge=1, le=64, description="threads that run the engine off the event loop (the engine is pure Python and "
        "holds the GIL: more threads only contend for it (bench/bench_http.py: 4 threads gave 40% fewer answers a "
        "second than 2); 2 keep answering while one is stuck)")
    projection_processes: int = Field(1, ge=0, le=16,
                                      description="worker processes for projections (0 = threads)")
    max_pending: int = Field(256, ge=1, description="answers waiting for a worker before new ones get 503")
    # --- authentication and rate limits
    api_keys: tuple[str, ...] = Field((), description="'id:sha256hex' entries; empty = open (development only)")
    allow_unauthenticated: bool = Field(False, description="allow binding a non-loopback address without API keys")
    rate_limit_per_minute: int | None = Field(
        None, ge=0, description="requests a minute per client; None = 600 when API keys are set, else off; 0 = off")
    rate_limit_burst: int | None = Field(None, ge=1, description="requests at once per client (default: a tenth "
                                                                "of the per-minute rate, at least 10)")
    # --- audit trail and logs
    audit_path: Path | None = Field(None, description="append-only audit trail (JSON lines); None = off")
    audit_policy: Literal["refuse", "answer-and-alarm"] = Field(
        "refuse", description="when the trail cannot be written: refuse the answer (503) or answer and alarm")
    audit_include_input: bool = Field(False, description="also write the canonical input (patient data!)")
    audit_fsync: bool = Field(True, description="fsync each audit line before answering")
    log_format: Literal["json", "text"] = Field("json", description="structured JSON log lines, or plain text")

    @field_validator("cors_origins", "api_keys", mode="before")
    @classmethod
    def _split(cls, v: object) -> object:
        if isinstance(v, str):
            return tuple(x.strip() for x in v.split(",") if x.strip())
        return v

    @field_validator("api_keys")
    @classmethod
    def _keys(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        from mbcpath.web.security import parse_api_keys

        parse_api_keys(v)
        return v

    def effective_rate_limit(self) -> tuple[int, int]:
        """(requests per minute, burst) actually applied; (0, 0) = off."""
        per_minute = self.rate_limit_per_minute
        if per_minute is None:
            per_minute = 600 if self.api_keys else 0
        burst = self.rate_limit_burst or max(10, per_minute // 10)
        return per_minute, (burst if per_minute else 0)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``MBCPATH_WEB_*`` variables, then apply ``overrides``."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.model_fields:
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is not None and raw != "":
                values[name] = raw.strip()  # pydantic's lax mode parses bools, ints and paths
        values.update(overrides)
        return cls.model_validate(values)

