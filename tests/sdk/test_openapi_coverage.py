"""The SDK covers the whole API: every OpenAPI operation has an SDK method, and back.

The SDK's route table (`govstore._routes.ROUTES`) maps each (method, path template)
to a dotted method under a client. Here it is checked against the server's OpenAPI
document both ways, the method it names must exist on `Client` and `AsyncClient`,
and the model that method parses must be the one the operation answers with, with
field names the schema has (and every field the SDK requires, the schema requires).
Models the SDK sends (such as `FindingInput`) are checked the other way round: every
field the API requires, the SDK requires. The SDK's enums list the values the API does.
"""

from __future__ import annotations

import datetime
import json
import types
import typing
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import govstore
import pytest
from govstore._pagination import PageSpec
from govstore._request import RequestSpec
from govstore._routes import ROUTES
from pydantic import BaseModel

OPENAPI_FILE = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}

# Each SDK model and the OpenAPI component schema it reads (or, for input models, writes).
MODEL_SCHEMAS: dict[type[BaseModel], str] = {
    govstore.AccessLogEntry: "AccessLine",
    govstore.Account: "AccountOut",
    govstore.ApiToken: "ApiTokenOut",
    govstore.Check: "CheckOut",
    govstore.CitizenExport: "ExportOut",
    govstore.Claim: "ClaimOut",
    govstore.Complaint: "ComplaintOut",
    govstore.ConsistencyProof: "ConsistencyOut",
    govstore.ComplaintFigures: "ComplaintFigures",
    govstore.ComplaintResponse: "ComplaintResponseOut",
    govstore.Consent: "ConsentOut",
    govstore.ConsentReceipt: "ReceiptOut",
    govstore.DataApiCredentials: "DataApiOut",
    govstore.DataApiRef: "DataApiRef",
    govstore.DataUse: "DataUseOut",
    govstore.Decision: "DecisionOut",
    govstore.ExportedAccount: "ExportAccount",
    govstore.ExportedComplaint: "ExportComplaint",
    govstore.ExportedComplaintResponse: "ExportResponse",
    govstore.ExportedConsent: "ExportConsent",
    govstore.ExportedOrganisation: "ExportOrganisation",
    govstore.ExportedRating: "ExportRating",
    govstore.ExportedToken: "ExportToken",
    govstore.Finding: "FindingOut",
    govstore.FindingInput: "FindingIn",
    govstore.Guideline: "GuidelineOut",
    govstore.InclusionProof: "InclusionOut",
    govstore.GuidelineVersion: "VersionOut",
    govstore.GuidelineVersionSummary: "VersionSummary",
    govstore.Jwks: "JwksOut",
    govstore.Kitemark: "KitemarkOut",
    govstore.KitemarkBadge: "KitemarkBadge",
    govstore.KitemarkScheme: "SchemeOut",
    govstore.KitemarkStatus: "KitemarkStatusOut",
    govstore.Listing: "ListingOut",
    govstore.LoginResult: "LoginOut",
    govstore.Member: "MemberOut",
    govstore.OAuthClientCredentials: "OAuthClientSecretOut",
    govstore.OAuthClientRegistration: "OAuthClientOut",
    govstore.OAuthServerMetadata: "ServerMetadataOut",
    govstore.Organisation: "OrganisationOut",
    govstore.OrganisationSummary: "OrganisationSummary",
    govstore.OutcomeReport: "OutcomeOut",
    govstore.OutcomeSeries: "OutcomeSeries",
    govstore.OutcomeValue: "OutcomeValue",
    govstore.ProviderRef: "ProviderRef",
    govstore.ProviderService: "ProviderServiceOut",
    govstore.PublicRating: "PublicRatingOut",
    govstore.Rating: "RatingOut",
    govstore.QueueInfo: "QueueInfo",
    govstore.QueueItem: "QueueItem",
    govstore.RatingBreakdown: "RatingsOut",
    govstore.RatingSummary: "RatingSummary",
    govstore.Release: "ReleaseOut",
    govstore.ReleaseDetail: "ReleaseDetail",
    govstore.ReleaseHistoryEntry: "HistoryEntry",
    govstore.ReleaseSummary: "ReleaseSummary",
    govstore.ReviewerRelease: "ReviewerRelease",
    govstore.Scope: "ScopeOut",
    govstore.ScopeGrant: "ScopeGrantOut",
    govstore.Service: "ServiceOut",
    govstore.ServicePage: "ServicePage",
    govstore.ServicePageKitemark: "KitemarkOnPage",
    govstore.ServiceRef: "ServiceRef",
    govstore.TransparencyEntries: "EntriesOut",
    govstore.TransparencyEntry: "EntryOut",
    govstore.TransparencyFigures: "TransparencyFigures",
    govstore.TreeHead: "TreeHeadOut",
    govstore.Webhook: "WebhookOut",
    govstore.WebhookDelivery: "DeliveryOut",
}
# Models the SDK sends rather than reads.
INPUT_MODELS: set[type[BaseModel]] = {govstore.FindingInput}
# Public models with no schema in the OpenAPI document, and why. The contract tests
# check them against what the server sends.
NOT_IN_THE_API: dict[type[BaseModel], str] = {
    govstore.WebhookEvent: "the body POSTed to a webhook receiver; the API shows it only as "
    "DeliveryOut.payload, an object",
    govstore.KitemarkEvidence: "an item of KitemarkOut.evidence and of a credential's evidence "
    "claim; the API shows it as an object",
    govstore.ConsentUse: "an item of ConsentOut.uses; the API shows it as an object",
    govstore.KitemarkClaims: "the signed claims of KitemarkOut.credential, a compact JWS",
    govstore.TokenResponse: "the OAuth token endpoint's answer (RFC 6749 §5.1); the OAuth "
    "endpoints are form-encoded and not in the OpenAPI document",
    govstore.Introspection: "the OAuth introspection endpoint's answer (RFC 7662); not in the "
    "OpenAPI document",
}
# Each SDK enum and where the OpenAPI document lists its values: a component schema, or a
# query parameter's schema as (method, path, parameter).
ENUMS: dict[type[StrEnum], str | tuple[str, str, str]] = {
    govstore.ApiTokenScope: "TokenScope",
    govstore.ComplaintCategory: "ComplaintCategory",
    govstore.ComplaintStatus: "ComplaintStatus",
    govstore.ConsentStatus: "ConsentStatus",
    govstore.DecisionOutcome: "Outcome",
    govstore.DeliveryStatus: "DeliveryStatus",
    govstore.FindingResult: "FindingResult",
    govstore.GrantStatus: "GrantStatus",
    govstore.ReleaseStatus: "ReleaseStatus",
    govstore.SearchSort: ("GET", "/v1/catalogue/services", "sort"),
}
MODELS = sorted(MODEL_SCHEMAS, key=lambda model: model.__qualname__)
MODEL_NAMES = [model.__qualname__ for model in MODELS]
OUTPUT_MODELS = [model for model in MODELS if model not in INPUT_MODELS]
OUTPUT_MODEL_NAMES = [model.__qualname__ for model in OUTPUT_MODELS]
INPUTS = sorted(INPUT_MODELS, key=lambda model: model.__qualname__)
INPUT_NAMES = [model.__qualname__ for model in INPUTS]


@cache
def openapi() -> dict[str, Any]:
    if OPENAPI_FILE.exists():
        document: dict[str, Any] = json.loads(OPENAPI_FILE.read_text())
        return document
    from marketplace.app import all_operations
    from marketplace.openapi import build_openapi

    return build_openapi(all_operations())


def operations() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in openapi()["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def schemas() -> dict[str, Any]:
    found: dict[str, Any] = openapi()["components"]["schemas"]
    return found


def sdk_method(client: Any, dotted: str) -> Any:
    target = client
    for part in dotted.split("."):
        target = getattr(target, part, None)
        if target is None:
            return None
    return target if callable(target) else None


def test_every_operation_has_an_sdk_method() -> None:
    unmapped = sorted(set(operations()) - set(ROUTES))

    assert not unmapped, f"operations with no SDK method (add them to govstore._routes): {unmapped}"


def test_every_mapped_route_is_an_operation() -> None:
    stale = sorted(set(ROUTES) - set(operations()))

    assert not stale, f"SDK routes the API does not have: {stale}"


def test_no_two_routes_share_a_method() -> None:
    names = list(ROUTES.values())

    assert len(names) == len(set(names))


@pytest.mark.parametrize("dotted", sorted(ROUTES.values()))
async def test_the_mapped_method_exists_on_both_clients(dotted: str) -> None:
    with govstore.Client() as sync_client:
        assert sdk_method(sync_client, dotted) is not None, f"Client.{dotted}"
    async with govstore.AsyncClient() as async_client:
        assert sdk_method(async_client, dotted) is not None, f"AsyncClient.{dotted}"


def parsed_type(dotted: str) -> Any:
    """What the SDK method parses: the model of its RequestSpec, or PageSpec's item model."""
    with govstore.Client() as client:
        build = sdk_method(client, dotted).__wrapped__
    returns = typing.get_type_hints(build)["return"]
    return typing.get_origin(returns), typing.get_args(returns)[0]


def success_schemas(operation: dict[str, Any]) -> list[dict[str, Any] | None]:
    """The schema of each 2xx answer, None for one without a body."""
    schemas: list[dict[str, Any] | None] = []
    for status, response in operation["responses"].items():
        if status.startswith("2"):
            content = response.get("content")
            schemas.append(None if content is None else content["application/json"]["schema"])
    return schemas


def ref_name(schema: dict[str, Any]) -> str:
    ref: str = schema["$ref"]
    return ref.rsplit("/", 1)[-1]


@pytest.mark.parametrize(
    ("route", "dotted"),
    sorted(ROUTES.items()),
    ids=[f"{method} {path}" for method, path in sorted(ROUTES)],
)
def test_each_method_parses_the_model_its_operation_answers_with(
    route: tuple[str, str], dotted: str
) -> None:
    operation = operations().get(route)
    if operation is None:
        pytest.skip("not an operation (reported by test_every_mapped_route_is_an_operation)")
    origin, parsed = parsed_type(dotted)
    # An operation with two successes (a rating: 201 created, 200 replaced) sends one body.
    found = success_schemas(operation)
    schema = found[0]
    assert all(other == schema for other in found), f"{dotted}: its successes differ"

    if parsed is type(None):
        assert origin is RequestSpec
        assert schema is None, f"{dotted} ignores a body the server sends"
    elif parsed == dict[str, Any]:
        assert schema == {"type": "object"}
    elif origin is PageSpec:
        assert schema is not None, f"{dotted} expects a page; the server sends no body"
        page = schemas()[ref_name(schema)]
        assert set(page["properties"]) == {"items", "next_cursor"}
        assert ref_name(page["properties"]["items"]["items"]) == MODEL_SCHEMAS[parsed]
    else:
        assert origin is RequestSpec
        assert schema is not None, f"{dotted} expects a body; the server sends none"
        assert ref_name(schema) == MODEL_SCHEMAS[parsed], dotted


def test_every_response_model_is_in_the_table() -> None:
    models = {
        value
        for name in govstore.__all__
        if isinstance(value := getattr(govstore, name), type)
        and issubclass(value, BaseModel)
        and value is not govstore.Page
    }

    assert models == set(MODEL_SCHEMAS) | set(NOT_IN_THE_API)
    assert not set(MODEL_SCHEMAS) & set(NOT_IN_THE_API)


@pytest.mark.parametrize("model", MODELS, ids=MODEL_NAMES)
def test_model_fields_are_schema_properties(model: type[BaseModel]) -> None:
    schema = schemas()[MODEL_SCHEMAS[model]]
    properties = set(schema.get("properties", {}))
    fields = set(model.model_fields)

    assert fields <= properties, (
        f"{model.__name__} reads fields the API lacks: {fields - properties}"
    )


@pytest.mark.parametrize("model", OUTPUT_MODELS, ids=OUTPUT_MODEL_NAMES)
def test_fields_the_sdk_requires_the_api_promises(model: type[BaseModel]) -> None:
    schema = schemas()[MODEL_SCHEMAS[model]]
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    promised = set(schema.get("required", []))

    assert required <= promised, (
        f"{model.__name__} needs fields the API may omit: {required - promised}"
    )


@pytest.mark.parametrize("model", INPUTS, ids=INPUT_NAMES)
def test_input_models_require_what_the_api_requires(model: type[BaseModel]) -> None:
    schema = schemas()[MODEL_SCHEMAS[model]]
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    demanded = set(schema.get("required", []))

    assert demanded <= required, (
        f"{model.__name__} lets callers leave out fields the API requires: {demanded - required}"
    )


def test_every_enum_is_in_the_table() -> None:
    enums = {
        value
        for name in govstore.__all__
        if isinstance(value := getattr(govstore, name), type) and issubclass(value, StrEnum)
    }

    assert enums == set(ENUMS)


@pytest.mark.parametrize("enum", list(ENUMS), ids=[enum.__qualname__ for enum in ENUMS])
def test_enum_values_are_the_apis(enum: type[StrEnum]) -> None:
    where = ENUMS[enum]
    if isinstance(where, str):
        schema = schemas()[where]
    else:
        method, path, name = where
        (parameter,) = [p for p in operations()[method, path]["parameters"] if p["name"] == name]
        (schema,) = [s for s in parameter["schema"]["anyOf"] if "enum" in s]

    assert [member.value for member in enum] == schema["enum"]


# Field types: every JSON type the API may send for a field, the SDK's model accepts.

JSON_TYPES = {"string", "integer", "number", "boolean", "array", "object", "null"}


def sdk_json_types(annotation: Any) -> set[str] | None:
    """The JSON types a field annotated so accepts; None when it accepts anything."""
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return None
    if origin in (typing.Union, types.UnionType):
        found: set[str] = set()
        for arg in typing.get_args(annotation):
            accepted = sdk_json_types(arg)
            if accepted is None:
                return None
            found |= accepted
        return found
    if annotation is type(None):
        return {"null"}
    if origin is typing.Literal:
        return {"string" if isinstance(v, str) else "integer" for v in typing.get_args(annotation)}
    if origin in (list, tuple, set, frozenset) or annotation in (list, tuple, set, frozenset):
        return {"array"}
    if origin is dict or annotation is dict:
        return {"object"}
    if isinstance(annotation, type):
        if issubclass(annotation, bool):
            return {"boolean"}
        if issubclass(annotation, str | datetime.datetime | datetime.date):
            return {"string"}
        if issubclass(annotation, int):
            return {"integer"}
        if issubclass(annotation, float):
            return {"number", "integer"}
        if issubclass(annotation, BaseModel):
            return {"object"}
    return None


def schema_json_types(schema: dict[str, Any]) -> set[str] | None:
    """The JSON types a property's schema allows; None when it does not say."""
    if "$ref" in schema:
        return schema_json_types(schemas()[ref_name(schema)])
    if "type" in schema:
        declared = schema["type"]
        found = {declared} if isinstance(declared, str) else set(declared)
        return {"integer", "number"} if found == {"number"} else found
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            found = set()
            for branch in schema[combinator]:
                allowed = schema_json_types(branch)
                if allowed is None:
                    return None
                found |= allowed
            return found
    if "enum" in schema:
        return {
            "string" if isinstance(v, str) else "null" if v is None else "integer"
            for v in schema["enum"]
        }
    if "const" in schema:
        return {"string"} if isinstance(schema["const"], str) else None
    return None


@pytest.mark.parametrize("model", OUTPUT_MODELS, ids=OUTPUT_MODEL_NAMES)
def test_model_field_types_accept_what_the_schema_allows(model: type[BaseModel]) -> None:
    properties = schemas()[MODEL_SCHEMAS[model]].get("properties", {})
    # pydantic's resolved annotations: the models' module is renamed `govstore` for display,
    # so typing.get_type_hints could not resolve their postponed annotations.
    hints = {name: field.annotation for name, field in model.model_fields.items()}
    for name in model.model_fields:
        accepted = sdk_json_types(hints[name])
        allowed = schema_json_types(properties[name])
        if accepted is None or allowed is None:
            continue
        assert allowed <= accepted, (
            f"{model.__name__}.{name} is {hints[name]}, but the API may send {sorted(allowed)}"
        )


def test_the_type_comparison_catches_a_drift() -> None:
    assert sdk_json_types(int) == {"integer"}
    assert not schema_json_types({"type": ["string", "null"]}) <= sdk_json_types(str)  # type: ignore[operator]
    assert schema_json_types({"anyOf": [{"type": "integer"}, {"type": "null"}]}) == {
        "integer",
        "null",
    }
    assert sdk_json_types(float | None) == {"number", "integer", "null"}
