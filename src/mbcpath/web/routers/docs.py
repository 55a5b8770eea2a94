"""``/docs``: a local, offline API reference rendered from ``/openapi.json``.

FastAPI's default Swagger UI loads its JavaScript from a CDN, and no PyPI
package at hand ships a Swagger UI that renders OpenAPI 3.1; so the reference
is server-rendered HTML: no CDN, no inline script, works without JavaScript.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from mbcpath.web.deps import TemplatesDep
from mbcpath.web.problems import PROBLEM_TYPES

router = APIRouter()
_METHODS = ("get", "post", "put", "patch", "delete")


def _ref_name(schema: dict[str, Any] | None) -> str:
    if not schema:
        return ""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        return f"list of {_ref_name(schema['items'])}"
    return str(schema.get("type", ""))


def operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Flatten the OpenAPI paths into rows the template can show."""
    ops = []
    for path, item in spec.get("paths", {}).items():
        for method in _METHODS:
            op = item.get(method)
            if not op:
                continue
            body: dict[str, Any] = (op.get("requestBody") or {}).get("content", {})
            first: dict[str, Any] = next(iter(body.values()), {})
            body_schema = first.get("schema")
            responses = []
            for status, r in op.get("responses", {}).items():
                content = r.get("content") or {}
                ctype = next(iter(content), "")
                schema = (content.get(ctype) or {}).get("schema") if ctype else None
                responses.append({"status": status, "description": r.get("description", ""),
                                  "media_type": ctype, "schema": _ref_name(schema)})
            params = [{"name": p.get("name"), "in": p.get("in"), "required": p.get("required", False),
                       "type": _ref_name(p.get("schema")) or "", "description": p.get("description", "")}
                      for p in op.get("parameters", [])]
            ops.append({"path": path, "method": method.upper(), "summary": op.get("summary", ""),
                        "description": op.get("description", ""), "tag": (op.get("tags") or ["other"])[0],
                        "params": params, "body": _ref_name(body_schema) if body_schema else "",
                        "responses": responses, "anchor": f"{method}-{path.strip('/').replace('/', '-')}"})
    return ops


@router.get("/docs", response_class=HTMLResponse)
async def api_docs(request: Request, templates: TemplatesDep) -> Response:
    spec = request.app.openapi()
    ctx = {"spec": spec, "ops": operations(spec), "problems": PROBLEM_TYPES, "section": "docs"}
    return templates.TemplateResponse(request, "docs.html", ctx)
