"""The service manifest: its JSON Schema, validation into pointed field errors, its references.

The schema is a versioned file, `marketplace/schemas/service-manifest.json` (draft 2020-12),
loaded and checked once at import. Validation reports every error, each with an RFC 6901
pointer into the manifest and a short plain-English detail; it never raises for bad input and
knows nothing about HTTP. Rules that need the database (does the scope exist?) or judgement
(is every URL https?) belong to automated review: `manifest_references` hands the scope and
kitemark scheme names to the caller, with their pointers, so unknown ones can be reported.

`format` keywords are annotations only (as in any standard draft 2020-12 validator without a
format checker); every URL and address also carries a `pattern`, which is asserted.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping, Sequence
from importlib import resources
from typing import Any, Final

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from marketplace.errors import FieldError

SCHEMA_ID: Final = "https://govstore.example/schemas/service-manifest/v1.json"

_MAX_VALUE_CHARS: Final = 60
_MAX_DETAIL_CHARS: Final = 200

# What each schema pattern means, so errors say "must be a scope name" rather than a regex.
# tests/releases/test_manifest.py checks that every pattern in the schema has an entry here.
PATTERN_HINTS: Final[Mapping[str, str]] = {
    r"^(?!\s)(?!.*\s$)[^\u0000-\u001f\u007f]*$": (
        "must not start or end with a space or contain control characters"
    ),
    r"^https?://[^\s/?#]+([/?#]\S*)?$": "must be an absolute http or https URL",
    r"^https?://[^\s/?#]+([/?][^\s#]*)?$": (
        "must be an absolute http or https URL without a fragment"
    ),
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$": "must be an email address",
    r"^(mailto:[^@\s]+@[^@\s]+\.[^@\s]+|https://[^\s/?#]+([/?#]\S*)?)$": (
        "must be a mailto: address or an https URL"
    ),
    r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$": "must be a scope name such as income.verify",
    r"^[a-z0-9]+(-[a-z0-9]+)*$": "must be a lowercase slug such as privacy-assured",
    r"^[A-Z]+-[0-9]+$": "must be a guideline code such as PRIV-1",
    r"^[A-Z]{2}$": "must be an ISO 3166-1 alpha-2 country code such as GB",
    r"^[a-z][a-z0-9_]*$": "must be a snake_case name such as appointments_completed",
    r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$": "must be a BCP 47 language tag such as en or cy-GB",
    r"^https?://(([a-z0-9-]+\.)*localhost|127(\.[0-9]{1,3}){3}|\[::1\])(:[0-9]+)?([/?#]|$)": (
        "must be a loopback URI"
    ),
}

# Details for properties that only some manifests must have (the schema's if/then rules).
_CONDITIONALLY_REQUIRED: Final[Mapping[str, str]] = {
    "clinical_safety": "is required for health services",
}

# Details for the schema's `not` rules, keyed by the subschema they forbid.
_FORBIDDEN: Final[Mapping[str, str]] = {
    "#/$defs/loopback_uri": "may be a loopback URI only when sandbox is true",
}

_TYPE_NAMES: Final[Mapping[str, str]] = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _load_schema() -> dict[str, Any]:
    resource = resources.files("marketplace").joinpath("schemas").joinpath("service-manifest.json")
    schema = json.loads(resource.read_text(encoding="utf-8"))
    if not isinstance(schema, dict) or schema.get("$id") != SCHEMA_ID:
        raise RuntimeError(f"{resource} is not the service manifest schema {SCHEMA_ID}")
    Draft202012Validator.check_schema(schema)
    return schema


_SCHEMA: Final = _load_schema()
_VALIDATOR: Final = Draft202012Validator(_SCHEMA)
# The Rust validator answers "is it valid?" about thirty times faster; the Python one, which
# explains every error, runs only when it is not (automated review re-checks every manifest).
_FAST_CHECK: Final = jsonschema_rs.validator_for(_SCHEMA)


def manifest_schema() -> dict[str, Any]:
    """Return the manifest JSON Schema; a fresh deep copy each call, so callers may change it."""
    return copy.deepcopy(_SCHEMA)


def validate_manifest(document: object) -> list[FieldError]:
    """Return every way `document` breaks the manifest schema; an empty list when it is valid.

    Pointers are relative to the manifest root ("" is the root itself). A missing or
    unexpected property is reported at the property's own pointer. The list holds no
    duplicates and is ordered by pointer, array indexes compared as numbers.
    """
    if not isinstance(document, Mapping):
        return [FieldError(pointer="", detail="must be a JSON object")]
    if _FAST_CHECK.is_valid(document):
        return []
    found: dict[tuple[str, str], tuple[Sequence[str | int], FieldError]] = {}
    for error in _VALIDATOR.iter_errors(document):
        for path, detail in _describe(error):
            field_error = FieldError(pointer=json_pointer(path), detail=detail)
            found.setdefault((field_error.pointer, detail), (path, field_error))
    ordered = sorted(found.values(), key=lambda item: (_sort_key(item[0]), item[1].detail))
    return [field_error for _, field_error in ordered]


def manifest_references(
    document: Mapping[str, Any],
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Return the manifest's (scope references, kitemark scheme references).

    Each reference is `(pointer, name)`, e.g. `("/data_uses/0/scope", "income.verify")` and
    `("/kitemarks/0/scheme", "privacy-assured")`, in document order. Entries of the wrong
    shape are skipped: validation reports those.
    """
    scopes = list(_named_items(document, "data_uses", "scope"))
    schemes = list(_named_items(document, "kitemarks", "scheme"))
    return scopes, schemes


def json_pointer(path: Sequence[str | int]) -> str:
    """Return the RFC 6901 JSON pointer for a path of object keys and array indexes."""
    return "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in path)


def _named_items(document: Mapping[str, Any], array: str, field: str) -> Iterator[tuple[str, str]]:
    items = document.get(array)
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        if isinstance(item, Mapping) and isinstance(item.get(field), str):
            yield json_pointer([array, index, field]), item[field]


def _describe(error: ValidationError) -> Iterator[tuple[list[str | int], str]]:
    """Yield (instance path, detail) for one schema error; some name several properties."""
    path = list(error.absolute_path)
    keyword = error.validator
    # Unset only on errors built by hand; iter_errors always sets both.
    value: Any = error.validator_value
    instance = error.instance
    if keyword == "required" and isinstance(instance, Mapping):
        conditional = "then" in error.relative_schema_path
        for name in value:
            if name not in instance:
                detail = "is required"
                if conditional:
                    detail = _CONDITIONALLY_REQUIRED.get(name, "is required here")
                yield [*path, name], detail
    elif keyword == "additionalProperties" and isinstance(instance, Mapping):
        schema = error.schema
        declared = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
        for name in instance:
            if name not in declared:
                yield [*path, name], "is not allowed"
    else:
        yield path, _detail(error)


def _detail(error: ValidationError) -> str:
    keyword = error.validator
    value: Any = error.validator_value
    if keyword == "type":
        names = [value] if isinstance(value, str) else list(value)
        return "must be " + " or ".join(_TYPE_NAMES.get(name, name) for name in names)
    if keyword == "enum":
        return _truncate("must be one of: " + ", ".join(_show(choice) for choice in value))
    if keyword == "const":
        return "must be " + _show(value)
    if keyword == "pattern":
        return PATTERN_HINTS.get(value, "is not in the expected format")
    if keyword == "minLength":
        return "must not be empty" if value == 1 else f"must be at least {value} characters long"
    if keyword == "maxLength":
        return f"must be at most {value} characters long"
    if keyword == "minItems":
        return "must not be empty" if value == 1 else f"must have at least {value} items"
    if keyword == "maxItems":
        return f"must have at most {value} items"
    if keyword == "uniqueItems":
        return "must not contain duplicates"
    if keyword == "minimum":
        return f"must be at least {value}"
    if keyword == "maximum":
        return f"must be at most {value}"
    if keyword == "not" and isinstance(value, Mapping):
        return _FORBIDDEN.get(str(value.get("$ref")), "is not allowed here")
    # A keyword this module has no wording for: jsonschema's message, without long values.
    return _truncate(error.message, _MAX_DETAIL_CHARS)


def _show(value: object) -> str:
    shown = value if isinstance(value, str) else json.dumps(value)
    return _truncate(shown, _MAX_VALUE_CHARS)


def _truncate(text: str, limit: int = _MAX_DETAIL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sort_key(path: Sequence[str | int]) -> list[tuple[int, int, str]]:
    return [(0, token, "") if isinstance(token, int) else (1, 0, token) for token in path]
