"""A JSON Schema (draft 2020-12) validator for the keywords the manifest schema uses.

The SDK depends only on httpx, pydantic and joserfc, so `govstore manifest validate`
checks a manifest with this small validator rather than the `jsonschema` package. It
covers the keywords the published service-manifest schema uses (and a few close
relatives); a schema with any other assertion keyword is refused with
`UnsupportedSchemaError` rather than half-checked, so a richer schema can never make a
manifest look valid when it is not. The repository's tests compare its verdicts with
the `jsonschema` package's over the manifest fixtures and many broken variants.

`format` is an annotation here, as in a standard validator without a format checker
(the server does the same); the schema's `pattern`s carry the real constraints.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

__all__ = ["SchemaError", "UnsupportedSchemaError", "Violation", "validate"]

# Keywords that only describe: they never make an instance invalid.
ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "$anchor",
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "format",
        "contentMediaType",
        "contentEncoding",
    }
)
ASSERTIONS = frozenset(
    {
        "$ref",
        "type",
        "enum",
        "const",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "pattern",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
    }
)


class SchemaError(ValueError):
    """The schema itself is broken: a bad `$ref`, a keyword with a value of the wrong kind."""


class UnsupportedSchemaError(SchemaError):
    """The schema uses a keyword this validator does not implement."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One way the instance breaks the schema: where (an RFC 6901 pointer) and what."""

    pointer: str
    message: str


def validate(instance: Any, schema: Mapping[str, Any]) -> list[Violation]:
    """Every violation of `schema` by `instance` (a parsed JSON value), in document order.

    An empty list means valid. Raises `UnsupportedSchemaError` (before checking
    anything) if the schema uses a keyword outside the supported set.
    """
    check_supported(schema)
    return list(_Validator(schema).errors(instance, schema, ""))


def check_supported(schema: Any, where: str = "#") -> None:
    """Refuse a schema with any keyword this validator would silently ignore."""
    if isinstance(schema, bool):
        return
    if not isinstance(schema, Mapping):
        raise SchemaError(f"{where} is not a schema")
    for keyword, value in schema.items():
        here = f"{where}/{_escape(keyword)}"
        if keyword not in ASSERTIONS and keyword not in ANNOTATIONS:
            raise UnsupportedSchemaError(
                f"the schema uses {keyword!r} at {where}, which this validator does not check"
            )
        if keyword in ("properties", "$defs"):
            for name, subschema in value.items():
                check_supported(subschema, f"{here}/{_escape(name)}")
        elif keyword in ("allOf", "anyOf", "oneOf"):
            for index, subschema in enumerate(value):
                check_supported(subschema, f"{here}/{index}")
        elif keyword in ("items", "additionalProperties", "not", "if", "then", "else"):
            check_supported(value, here)


class _Validator:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def errors(self, instance: Any, schema: Any, pointer: str) -> Iterator[Violation]:
        if schema is True:
            return
        if schema is False:
            yield Violation(pointer, "is not allowed here")
            return
        if "$ref" in schema:
            yield from self.errors(instance, self.resolve(schema["$ref"]), pointer)
        if "type" in schema and not _is_type(instance, schema["type"]):
            yield Violation(pointer, f"must be {_type_names(schema['type'])}")
            return  # the other keywords' messages would only repeat this one
        if "const" in schema and not _json_equal(instance, schema["const"]):
            yield Violation(pointer, f"must be {_show(schema['const'])}")
        if "enum" in schema and not any(_json_equal(instance, v) for v in schema["enum"]):
            yield Violation(pointer, f"must be one of {', '.join(map(_show, schema['enum']))}")
        if isinstance(instance, str):
            yield from self.string_errors(instance, schema, pointer)
        elif _is_number(instance):
            yield from self.number_errors(instance, schema, pointer)
        elif isinstance(instance, list):
            yield from self.array_errors(instance, schema, pointer)
        elif isinstance(instance, dict):
            yield from self.object_errors(instance, schema, pointer)
        yield from self.applicator_errors(instance, schema, pointer)

    def string_errors(
        self, text: str, schema: Mapping[str, Any], pointer: str
    ) -> Iterator[Violation]:
        if "minLength" in schema and len(text) < schema["minLength"]:
            yield Violation(pointer, f"must be at least {schema['minLength']} characters long")
        if "maxLength" in schema and len(text) > schema["maxLength"]:
            yield Violation(pointer, f"must be at most {schema['maxLength']} characters long")
        if "pattern" in schema and not _pattern(schema["pattern"]).search(text):
            yield Violation(pointer, f"does not match the pattern {schema['pattern']}")

    def number_errors(
        self, number: float, schema: Mapping[str, Any], pointer: str
    ) -> Iterator[Violation]:
        if "minimum" in schema and number < schema["minimum"]:
            yield Violation(pointer, f"must be at least {schema['minimum']}")
        if "maximum" in schema and number > schema["maximum"]:
            yield Violation(pointer, f"must be at most {schema['maximum']}")
        if "exclusiveMinimum" in schema and number <= schema["exclusiveMinimum"]:
            yield Violation(pointer, f"must be more than {schema['exclusiveMinimum']}")
        if "exclusiveMaximum" in schema and number >= schema["exclusiveMaximum"]:
            yield Violation(pointer, f"must be less than {schema['exclusiveMaximum']}")

    def array_errors(
        self, items: list[Any], schema: Mapping[str, Any], pointer: str
    ) -> Iterator[Violation]:
        if "minItems" in schema and len(items) < schema["minItems"]:
            yield Violation(pointer, f"must have at least {schema['minItems']} items")
        if "maxItems" in schema and len(items) > schema["maxItems"]:
            yield Violation(pointer, f"must have at most {schema['maxItems']} items")
        if schema.get("uniqueItems") is True and any(
            _json_equal(items[later], items[earlier])
            for later in range(len(items))
            for earlier in range(later)
        ):
            yield Violation(pointer, "must not contain duplicates")
        if "items" in schema:
            for index, item in enumerate(items):
                yield from self.errors(item, schema["items"], f"{pointer}/{index}")

    def object_errors(
        self, fields: dict[str, Any], schema: Mapping[str, Any], pointer: str
    ) -> Iterator[Violation]:
        for name in schema.get("required", []):
            if name not in fields:
                yield Violation(f"{pointer}/{_escape(name)}", "is required")
        properties = schema.get("properties", {})
        for name, value in fields.items():
            here = f"{pointer}/{_escape(name)}"
            if name in properties:
                yield from self.errors(value, properties[name], here)
            elif "additionalProperties" in schema:
                if schema["additionalProperties"] is False:
                    yield Violation(here, "is not a field the schema allows")
                else:
                    yield from self.errors(value, schema["additionalProperties"], here)

    def applicator_errors(
        self, instance: Any, schema: Mapping[str, Any], pointer: str
    ) -> Iterator[Violation]:
        for subschema in schema.get("allOf", []):
            yield from self.errors(instance, subschema, pointer)
        if "anyOf" in schema and not any(self.valid(instance, s) for s in schema["anyOf"]):
            yield Violation(pointer, "matches none of the allowed forms")
        if "oneOf" in schema:
            matches = sum(self.valid(instance, s) for s in schema["oneOf"])
            if matches != 1:
                yield Violation(pointer, f"must match exactly one allowed form, not {matches}")
        if "not" in schema and self.valid(instance, schema["not"]):
            yield Violation(pointer, "is a value the schema forbids here")
        if "if" in schema:
            branch = "then" if self.valid(instance, schema["if"]) else "else"
            if branch in schema:
                yield from self.errors(instance, schema[branch], pointer)

    def valid(self, instance: Any, schema: Any) -> bool:
        return next(iter(self.errors(instance, schema, "")), None) is None

    def resolve(self, reference: str) -> Any:
        if not reference.startswith("#"):
            raise SchemaError(f"only references within the schema are supported, not {reference}")
        target: Any = self.root
        for token in reference[1:].split("/")[1:]:
            token = token.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or token not in target:
                raise SchemaError(f"the reference {reference} points at nothing")
            target = target[token]
        return target


_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: _is_number(v),
    "integer": lambda v: _is_number(v) and float(v).is_integer(),
}
_TYPE_NAMES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "boolean": "true or false",
    "null": "null",
    "number": "a number",
    "integer": "a whole number",
}


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and not (isinstance(value, float) and not math.isfinite(value))
    )


def _is_type(value: Any, expected: str | list[str]) -> bool:
    names = [expected] if isinstance(expected, str) else expected
    for name in names:
        if name not in _TYPES:
            raise SchemaError(f"unknown type {name!r}")
    return any(_TYPES[name](value) for name in names)


def _type_names(expected: str | list[str]) -> str:
    names = [expected] if isinstance(expected, str) else expected
    return " or ".join(_TYPE_NAMES[name] for name in names)


def _json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON sees it: true is not 1, and 1 is 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


@cache
def _pattern(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as error:
        raise SchemaError(
            f"the pattern {pattern} is not a regular expression Python reads"
        ) from error


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    return str(value).lower() if isinstance(value, bool) else str(value)
