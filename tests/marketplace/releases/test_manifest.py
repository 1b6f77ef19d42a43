"""Unit tests for marketplace.releases.manifest: the schema, validation and references."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from marketplace.errors import FieldError
from marketplace.releases.manifest import (
    PATTERN_HINTS,
    SCHEMA_ID,
    json_pointer,
    manifest_references,
    manifest_schema,
    validate_manifest,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "manifests"
VALID = sorted((FIXTURES / "valid").glob("*.json"))
INVALID = sorted((FIXTURES / "invalid").glob("*.json"))


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def valid_manifest(name: str = "fix-my-flat") -> dict[str, Any]:
    manifest: dict[str, Any] = load(FIXTURES / "valid" / f"{name}.json")
    return manifest


def declarations(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema that declares a value, nested ones included; not the if/then/else rules."""
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key in ("properties", "$defs"):
                for child in value.values():
                    yield from declarations(child)
            elif key == "items":
                yield from declarations(value)


# --- the schema ------------------------------------------------------------------------------


def test_schema_is_valid_draft_2020_12() -> None:
    schema = manifest_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID
    assert schema["title"]


def test_manifest_schema_returns_an_independent_copy() -> None:
    schema = manifest_schema()
    schema["properties"]["name"]["maxLength"] = 1
    assert manifest_schema()["properties"]["name"]["maxLength"] == 80
    assert validate_manifest(valid_manifest()) == []


def test_every_property_has_a_description() -> None:
    schema = manifest_schema()
    missing = [
        name
        for node in declarations(schema)
        for name, prop in node.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert missing == []


def test_every_object_refuses_unknown_properties() -> None:
    objects = [node for node in declarations(manifest_schema()) if node.get("type") == "object"]
    assert len(objects) >= 8
    assert all(node.get("additionalProperties") is False for node in objects)


def test_every_pattern_has_a_plain_english_hint() -> None:
    patterns = {node["pattern"] for node in declarations(manifest_schema()) if "pattern" in node}
    assert patterns == set(PATTERN_HINTS)


def test_core_values_are_the_ones_in_the_api_contract() -> None:
    schema = manifest_schema()
    defs = schema["$defs"]
    assert schema["properties"]["category"]["enum"] == [
        "health",
        "education",
        "tax",
        "benefits",
        "employment",
        "housing",
        "transport",
        "justice",
        "other",
    ]
    assert defs["data_use"]["properties"]["purpose"]["enum"] == [
        "eligibility_check",
        "identity_verification",
        "service_delivery",
        "personalisation",
        "research",
        "fraud_prevention",
    ]
    assert defs["data_use"]["properties"]["lawful_basis"]["enum"] == [
        "consent",
        "contract",
        "legal_obligation",
        "public_task",
        "vital_interests",
        "legitimate_interests",
    ]
    assert defs["evidence"]["properties"]["level"]["enum"] == [
        "self_assertion",
        "independent_validation",
        "independent_testing",
    ]
    assert set(schema["required"]) == {
        "name",
        "summary",
        "description",
        "category",
        "website_url",
        "privacy_policy_url",
        "support_email",
        "security_contact",
        "redirect_uris",
        "data_uses",
        "kitemarks",
        "pricing",
    }


# --- fixtures --------------------------------------------------------------------------------


def test_there_are_enough_fixtures() -> None:
    assert len(VALID) >= 4
    assert len(INVALID) >= 8


@pytest.mark.parametrize("path", VALID, ids=lambda path: path.stem)
def test_valid_fixture_has_no_errors(path: Path) -> None:
    assert validate_manifest(load(path)) == []


@pytest.mark.parametrize("path", VALID, ids=lambda path: path.stem)
def test_valid_fixture_passes_a_plain_draft_2020_12_validator(path: Path) -> None:
    assert list(Draft202012Validator(manifest_schema()).iter_errors(load(path))) == []


@pytest.mark.parametrize("path", INVALID, ids=lambda path: path.stem)
def test_invalid_fixture_reports_exactly_its_pointers(path: Path) -> None:
    fixture = load(path)
    assert set(fixture) == {"description", "manifest", "errors"}

    errors = validate_manifest(fixture["manifest"])

    assert sorted({error.pointer for error in errors}) == sorted(fixture["errors"])
    assert len(errors) == len(set(errors)), "duplicates"
    for error in errors:
        assert isinstance(error, FieldError)
        assert 0 < len(error.detail) <= 200
        assert "{" not in error.detail, "no Python reprs in details"


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize("document", [None, [], ["name"], "manifest", 1, 2.5, True])
def test_non_object_is_one_error_at_the_root(document: object) -> None:
    assert validate_manifest(document) == [FieldError(pointer="", detail="must be a JSON object")]


def test_missing_property_is_reported_at_its_own_pointer() -> None:
    manifest = valid_manifest()
    del manifest["data_uses"][0]["purpose"]
    assert validate_manifest(manifest) == [
        FieldError(pointer="/data_uses/0/purpose", detail="is required")
    ]


def test_each_unexpected_property_is_reported() -> None:
    manifest = valid_manifest()
    manifest["colour"] = "blue"
    manifest["pricing"]["currency"] = "GBP"
    assert validate_manifest(manifest) == [
        FieldError(pointer="/colour", detail="is not allowed"),
        FieldError(pointer="/pricing/currency", detail="is not allowed"),
    ]


def test_clinical_safety_is_required_for_health_only() -> None:
    health = valid_manifest("acme-gp-online")
    del health["clinical_safety"]
    assert validate_manifest(health) == [
        FieldError(pointer="/clinical_safety", detail="is required for health services")
    ]
    health["category"] = "other"
    assert validate_manifest(health) == []


def test_loopback_redirect_uris_need_sandbox() -> None:
    manifest = valid_manifest()
    manifest["redirect_uris"] = ["http://localhost:5000/cb"]
    assert [error.pointer for error in validate_manifest(manifest)] == ["/redirect_uris/0"]
    manifest["sandbox"] = True
    assert validate_manifest(manifest) == []


def test_plain_http_urls_are_left_to_review() -> None:
    manifest = valid_manifest()
    manifest["website_url"] = "http://fixmyflat.example.com"
    manifest["redirect_uris"] = ["http://fixmyflat.example.com/cb"]
    assert validate_manifest(manifest) == []


@pytest.mark.parametrize(
    ("key", "pointer"),
    [("a/b", "/a~1b"), ("a~b", "/a~0b"), ("~/", "/~0~1"), ("~1", "/~01"), ("", "/")],
)
def test_pointers_escape_tilde_and_slash(key: str, pointer: str) -> None:
    manifest = valid_manifest()
    manifest[key] = 1
    assert validate_manifest(manifest) == [FieldError(pointer=pointer, detail="is not allowed")]


def test_json_pointer() -> None:
    assert json_pointer([]) == ""
    assert json_pointer(["data_uses", 0, "scope"]) == "/data_uses/0/scope"
    assert json_pointer(["a/b", "c~d", 12]) == "/a~1b/c~0d/12"


def test_errors_are_sorted_with_indexes_compared_as_numbers() -> None:
    manifest = valid_manifest()
    use = manifest["data_uses"][0]
    manifest["data_uses"] = [dict(use, scope=f"housing.tenancy{n}.verify") for n in range(12)]
    manifest["data_uses"][10]["retention_days"] = -5
    manifest["data_uses"][2]["purpose"] = "marketing"
    manifest["category"] = "farming"
    pointers = [error.pointer for error in validate_manifest(manifest)]
    assert pointers == ["/category", "/data_uses/2/purpose", "/data_uses/10/retention_days"]


def test_long_values_do_not_appear_in_details() -> None:
    huge = "x" * 10_000
    manifest = valid_manifest()
    manifest["category"] = huge
    manifest["data_uses"][0]["scope"] = huge
    manifest["kitemarks"] = huge
    errors = validate_manifest(manifest)
    assert {error.pointer for error in errors} == {"/category", "/data_uses/0/scope", "/kitemarks"}
    assert all(huge[:100] not in error.detail and len(error.detail) <= 200 for error in errors)


def test_every_error_is_reported_not_just_the_first() -> None:
    manifest = valid_manifest()
    for use in manifest["data_uses"]:
        use["lawful_basis"] = "because"
    manifest["processors"][0]["country"] = "gb"
    manifest["processors"][1]["country"] = "deu"
    assert [error.pointer for error in validate_manifest(manifest)] == [
        "/data_uses/0/lawful_basis",
        "/processors/0/country",
        "/processors/1/country",
    ]


# --- references ------------------------------------------------------------------------------


def test_manifest_references() -> None:
    scopes, schemes = manifest_references(valid_manifest())
    assert scopes == [("/data_uses/0/scope", "housing.tenancy.verify")]
    assert schemes == [
        ("/kitemarks/0/scheme", "privacy-assured"),
        ("/kitemarks/1/scheme", "accessible"),
    ]


def test_manifest_references_in_document_order() -> None:
    scopes, schemes = manifest_references(valid_manifest("study-support-finder"))
    assert scopes == [
        ("/data_uses/0/scope", "education.enrolment.verify"),
        ("/data_uses/1/scope", "income.verify"),
    ]
    assert schemes == [("/kitemarks/0/scheme", "accessible")]


def test_manifest_references_skip_entries_of_the_wrong_shape() -> None:
    document = {
        "data_uses": ["income.verify", {"scope": 7}, {}, {"scope": "income.read"}],
        "kitemarks": {"scheme": "privacy-assured"},
    }
    assert manifest_references(document) == ([("/data_uses/3/scope", "income.read")], [])
    assert manifest_references({}) == ([], [])
