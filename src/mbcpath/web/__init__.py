"""The web adapter: REST API (``/api/v1``) and server-rendered clinician pages.

>>> from mbcpath.web import create_app                     # doctest: +SKIP
>>> app = create_app()                                      # an ASGI app for any server
>>> serve()                                                 # uvicorn on http://127.0.0.1:8000 # doctest: +SKIP

FastAPI, uvicorn and Jinja2 come with the ``web`` extra: ``pip install 'mbcpath[web]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mbcpath import __version__

__all__ = ["__version__", "create_app", "serve"]

if TYPE_CHECKING:
    from fastapi import FastAPI

    from mbcpath.web.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI app (see :func:`mbcpath.web.app.create_app`)."""
    from mbcpath.web.app import create_app as _create

    return _create(settings)


def serve(host: str | None = None, port: int | None = None, **overrides: Any) -> None:
    """Run the app with uvicorn (default http://127.0.0.1:8000; see :func:`mbcpath.web.app.serve`)."""
    from mbcpath.web.app import serve as _serve

    _serve(host=host, port=port, **overrides)
