"""Operational endpoints: liveness, readiness, Prometheus metrics, the OpenAPI document and /docs."""

from __future__ import annotations

import html
import logging
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from marketplace.platform import Platform
from marketplace.problems import problem_response

logger = logging.getLogger("govstore.ops")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    platform: Platform = request.app.state.platform
    checks: dict[str, str] = {}
    try:
        await platform.db.ping()
        checks["database"] = "ok"
    except Exception as exc:
        logger.warning("readiness: database unreachable: %s", type(exc).__name__)
        checks["database"] = "unreachable"
    if platform.settings.redis_url:
        try:
            await platform.counters.ping()
            await platform.jobs.ping()
            checks["queue"] = "ok"
        except Exception as exc:
            logger.warning("readiness: redis unreachable: %s", type(exc).__name__)
            checks["queue"] = "unreachable"
    else:
        checks["queue"] = "in-process"
    if "unreachable" in checks.values():
        return problem_response(503, detail="a dependency is unreachable", extra={"checks": checks})
    return JSONResponse({"status": "ready", "checks": checks})


async def metrics(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def openapi_json(request: Request) -> Response:
    return JSONResponse(request.app.state.openapi)


def _schema_text(schema: dict[str, Any] | None) -> str:
    if not schema:
        return ""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        return f'<a href="#schema-{html.escape(name)}"><code>{html.escape(name)}</code></a>'
    return f"<code>{html.escape(str(schema.get('type', 'object')))}</code>"


async def docs(request: Request) -> Response:
    """A readable, script-free rendering of the OpenAPI document."""
    spec: dict[str, Any] = request.app.state.openapi
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>GovStore API reference</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
        "padding:0 1rem;line-height:1.5}code{background:#f3f2f1;padding:0 .2em}"
        "h3{margin-bottom:.2rem}.m{font-weight:700;text-transform:uppercase;margin-right:.5em}"
        "section{border-top:1px solid #b1b4b6;padding:.5rem 0}</style></head><body>",
        f"<h1>{html.escape(spec['info']['title'])} {html.escape(spec['info']['version'])}</h1>",
        f"<p>{html.escape(spec['info']['description'])}</p>",
        "<p>Machine-readable: <a href='/openapi.json'>/openapi.json</a> (OpenAPI 3.1).</p>",
    ]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            by_tag.setdefault(op["tags"][0], []).append((method, path, op))
    for tag in sorted(by_tag):
        parts.append(f"<h2>{html.escape(tag.title())}</h2>")
        for method, path, op in by_tag[tag]:
            parts.append(
                f"<section id='{html.escape(op['operationId'])}'><h3><span class='m'>"
                f"{method}</span><code>{html.escape(path)}</code></h3>"
                f"<p>{html.escape(op['summary'])}</p>"
            )
            if op.get("description"):
                parts.append(f"<p>{html.escape(op['description'])}</p>")
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            if body:
                parts.append(f"<p>Body: {_schema_text(body.get('schema'))}</p>")
            for code, response in op["responses"].items():
                content: dict[str, Any] = response.get("content", {})
                first: dict[str, Any] = next(iter(content.values()), {})
                schema = first.get("schema")
                parts.append(
                    f"<div><code>{code}</code> {html.escape(response['description'])} "
                    f"{_schema_text(schema)}</div>"
                )
            parts.append("</section>")
    parts.append("<h2>Schemas</h2>")
    for name, schema in sorted(spec["components"]["schemas"].items()):
        props = schema.get("properties", {})
        rows = "".join(
            f"<li><code>{html.escape(p)}</code> {_schema_text(v)} "
            f"{html.escape(str(v.get('description', '')))}</li>"
            for p, v in props.items()
        )
        parts.append(
            f"<section id='schema-{html.escape(name)}'><h3>{html.escape(name)}</h3><ul>{rows}</ul>"
            "</section>"
        )
    parts.append("</body></html>")
    return HTMLResponse("".join(parts))
