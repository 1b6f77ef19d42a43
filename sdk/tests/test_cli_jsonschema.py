"""The CLI's small JSON Schema validator, keyword by keyword.

The repository's tests/sdk/test_cli_live.py also compares its verdicts with the server's
validator over the real manifest schema and many broken manifests.
"""

from __future__ import annotations

from typing import Any

import pytest

from govstore.cli._jsonschema import SchemaError, UnsupportedSchemaError, Violation, validate


def pointers(instance: Any, schema: dict[str, Any]) -> list[str]:
    return [violation.pointer for violation in validate(instance, schema)]


@pytest.mark.parametrize(
    ("schema", "good", "bad"),
    [
        ({"type": "integer"}, 3, 3.5),
        ({"type": "integer"}, 3.0, True),
        ({"type": "number"}, 1.5, "1.5"),
        ({"type": ["string", "null"]}, None, 1),
        ({"type": "boolean"}, False, 0),
        ({"const": True}, True, 1),
        ({"const": 1}, 1.0, True),
        ({"enum": ["a", [1]]}, [1], [True]),
        ({"minLength": 2, "maxLength": 3}, "ab", "abcd"),
        ({"minLength": 2}, "ab", "a"),
        ({"pattern": "^[a-z]+$"}, "abc", "aBc"),
        ({"pattern": "b"}, "abc", "ac"),  # search, not match
        ({"minimum": 1, "maximum": 2}, 2, 2.5),
        ({"exclusiveMinimum": 1}, 1.1, 1),
        ({"exclusiveMaximum": 1}, 0, 1),
        ({"minItems": 1}, [0], []),
        ({"maxItems": 1}, [0], [0, 1]),
        ({"uniqueItems": True}, [1, True], [{"a": 1}, {"a": 1.0}]),
        ({"required": ["a"]}, {"a": None}, {}),
        ({"properties": {"a": {"type": "string"}}}, {"b": 1}, {"a": 1}),
        ({"additionalProperties": False, "properties": {"a": {}}}, {"a": 1}, {"b": 1}),
        ({"additionalProperties": {"type": "string"}}, {"b": "x"}, {"b": 1}),
        ({"items": {"type": "string"}}, ["a"], ["a", 1]),
        ({"allOf": [{"minimum": 1}, {"maximum": 3}]}, 2, 4),
        ({"anyOf": [{"type": "string"}, {"minimum": 3}]}, 4, 2),
        ({"oneOf": [{"minimum": 3}, {"maximum": 5}]}, 6, 4),
        ({"not": {"type": "string"}}, 1, "a"),
        ({"if": {"const": 1}, "then": {"type": "integer"}, "else": {"type": "string"}}, "x", 2),
        ({"$ref": "#/$defs/small", "$defs": {"small": {"maximum": 1}}}, 1, 2),
        (True, 1, None),
        ({"format": "email", "title": "annotations only"}, "not an email", None),
    ],
)
def test_each_keyword(schema: Any, good: Any, bad: Any) -> None:
    assert validate(good, schema if isinstance(schema, dict) else {"allOf": [schema]}) == []
    if bad is not None:
        assert validate(bad, schema) != []


def test_false_refuses_everything() -> None:
    assert pointers({"a": 1}, {"properties": {"a": False}}) == ["/a"]


def test_every_violation_is_reported_with_its_pointer() -> None:
    schema = {
        "type": "object",
        "required": ["name", "uses"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string"},
            "uses": {
                "type": "array",
                "items": {"type": "object", "required": ["scope"], "properties": {"scope": {}}},
            },
            "a/b~c": {"type": "string"},
        },
    }

    found = validate({"uses": [{"scope": "x"}, {}], "extra": 1, "a/b~c": 2}, schema)

    assert found == [
        Violation("/name", "is required"),
        Violation("/uses/1/scope", "is required"),
        Violation("/extra", "is not a field the schema allows"),
        Violation("/a~1b~0c", "must be a string"),
    ]


def test_a_wrong_type_is_reported_once() -> None:
    assert validate(5, {"type": "string", "minLength": 3, "pattern": "x"}) == [
        Violation("", "must be a string")
    ]


def test_then_applies_only_when_if_holds() -> None:
    schema = {
        "if": {"properties": {"category": {"const": "health"}}, "required": ["category"]},
        "then": {"required": ["clinical_safety"]},
    }

    assert pointers({"category": "health"}, schema) == ["/clinical_safety"]
    assert pointers({"category": "tax"}, schema) == []


def test_an_unsupported_keyword_is_refused_before_anything_is_checked() -> None:
    with pytest.raises(UnsupportedSchemaError, match="'patternProperties' at #/properties/a"):
        validate({}, {"properties": {"a": {"patternProperties": {}}}})


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#/$defs/missing"},
        {"$ref": "https://example.com/schema.json"},
        {"pattern": "("},
        {"type": "decimal"},
    ],
)
def test_a_broken_schema_is_a_schema_error(schema: dict[str, Any]) -> None:
    with pytest.raises(SchemaError):
        validate("x", schema)
