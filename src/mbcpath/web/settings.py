"""Settings of the web adapter: one class, read from ``MBCPATH_WEB_*`` environment variables.

Defaults are the private, local ones: listen on 127.0.0.1, no access log, no CORS,
a 256 KiB request limit. pydantic-settings is not a dependency, so
:meth:`Settings.from_env` reads the environment itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

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
    cors_origins: tuple[str, ...] = Field((), description="CORS allow-list; empty = CORS off")
    access_log: bool = Field(False, description="uvicorn access log (method, path, status; never bodies)")
    kb_path: Path | None = Field(None, description="knowledge base folder; default: mbcpath.kb.default_kb_path()")
    examples_dir: Path = Field(default_factory=default_examples_dir, description="example patients for the UI")
    docs: bool = Field(True, description="serve /docs (local API reference) and /openapi.json")
    hsts: bool = Field(False, description="send Strict-Transport-Security (only behind TLS)")
    title: str = "mbcpath"

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split(cls, v: object) -> object:
        if isinstance(v, str):
            return tuple(x.strip() for x in v.split(",") if x.strip())
        return v

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

