"""The OpenAPI 3.1 document, generated from the route declarations and their pydantic models."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.responses import Response

from marketplace import __version__
from marketplace.problems import Problem
from marketplace.routing import Auth, Operation, status_phrase

_PATH_PARAM = re.compile(r"{([a-z_]+)}")
_ALWAYS = (400, 429, 500)

INTRO = (
    "GovStore is a public-interest app store for digital public services: guidelines, "
    "automated and human review, kitemarks, scoped access to government data, and citizen "
    "consent. Errors are RFC 9457 problem documents (application/problem+json). Lists take "
    "`limit` and `cursor` and answer `{items, next_cursor}`. Creating POSTs accept "
    "`Idempotency-Key`."
)


def _query_parameters(model: type[BaseModel], schema: dict[str, Any]) -> list[dict[str, Any]]:
    params = []
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    for name, info in model.model_fields.items():
        prop = dict(properties.get(name, {}))
        description = prop.pop("description", info.description)
        prop.pop("title", None)
        param: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
        }
        if description:
            param["description"] = description
        if prop.get("type") == "array" or "items" in prop:
            param["style"] = "form"
            param["explode"] = True
        params.append(param)
    return params


def build_openapi(operations: list[Operation], *, server_url: str | None = None) -> dict[str, Any]:
    inputs: list[tuple[type[BaseModel], Any]] = [(Problem, "serialization")]
    for op in operations:
        if op.body_model is not None:
            inputs.append((op.body_model, "validation"))
        if op.query_model is not None:
            inputs.append((op.query_model, "validation"))
        if isinstance(op.response_model, type) and issubclass(op.response_model, BaseModel):
            inputs.append((op.response_model, "serialization"))
    unique = list(dict.fromkeys(inputs))
    key_map, definitions = models_json_schema(unique, ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))

    def ref(model: type[BaseModel], mode: str) -> dict[str, Any]:
        return key_map[(model, mode)]  # type: ignore[index]

    def inline(model: type[BaseModel], mode: str) -> dict[str, Any]:
        pointer = ref(model, mode)["$ref"].rsplit("/", 1)[-1]
        return dict(schemas[pointer])

    problem_ref = ref(Problem, "serialization")
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        item: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "tags": [op.tag],
        }
        if op.description:
            item["description"] = op.description
        parameters: list[dict[str, Any]] = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "string", "minLength": 1},
            }
            for name in _PATH_PARAM.findall(op.path)
        ]
        if op.query_model is not None:
            parameters += _query_parameters(op.query_model, inline(op.query_model, "validation"))
        if op.creates:
            parameters.append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": "a replay with the same key returns the first response",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                }
            )
        if parameters:
            item["parameters"] = parameters
        if op.body_model is not None:
            item["requestBody"] = {
                "required": op.body_required,
                "content": {"application/json": {"schema": ref(op.body_model, "validation")}},
            }
        responses: dict[str, Any] = {}
        success: dict[str, Any] = {"description": status_phrase(op.status_code)}
        if isinstance(op.response_model, type) and issubclass(op.response_model, Response):
            success["content"] = {"application/json": {"schema": {"type": "object"}}}
        elif op.response_model is not None and op.status_code != 204:
            success["content"] = {
                "application/json": {"schema": ref(op.response_model, "serialization")}
            }
        if op.response_headers.get(op.status_code):
            success["headers"] = {
                name: {"description": text, "schema": {"type": "string"}}
                for name, text in op.response_headers[op.status_code].items()
            }
        responses[str(op.status_code)] = success
        for code, text in op.extra_responses.items():
            responses[str(code)] = {"description": text}
            # Another success (201 or 200) answers with the same body as the main one.
            if 200 <= code < 300 and "content" in success:
                responses[str(code)]["content"] = success["content"]
        error_codes = set(_ALWAYS) | set(op.errors)
        if op.auth == Auth.REQUIRED or op.auth == Auth.OPTIONAL:
            error_codes |= {401, 403}
        if op.body_model is not None:
            error_codes |= {413, 415, 422}
        if op.creates:
            error_codes |= {409, 422}
        for code in sorted(error_codes):
            error: dict[str, Any] = {
                "description": status_phrase(code),
                "content": {"application/problem+json": {"schema": problem_ref}},
            }
            if code == 429:
                error["headers"] = {
                    "Retry-After": {"description": "seconds to wait", "schema": {"type": "string"}}
                }
            responses[str(code)] = error
        item["responses"] = responses
        if op.auth == Auth.REQUIRED:
            item["security"] = [{"bearerAuth": []}]
        elif op.auth == Auth.OPTIONAL:
            item["security"] = [{"bearerAuth": []}, {}]
        paths.setdefault(op.path, {})[op.method.lower()] = item

    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "GovStore API", "version": __version__, "description": INTRO},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a session token from /v1/auth/login or an API token (gst_)",
                }
            },
        },
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
