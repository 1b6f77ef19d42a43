"""Jinja2 with the GOV.UK Frontend macros (govuk-frontend-jinja), and the one inline script's hash."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import govuk_frontend_jinja
from jinja2 import (
    ChainableUndefined,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    select_autoescape,
)

HERE = Path(__file__).resolve().parent
_GOVUK_TEMPLATES = Path(govuk_frontend_jinja.__file__).resolve().parent / "templates"


def _date(value: datetime | str | None, with_time: bool = False) -> str:
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    text = f"{moment.day} {moment:%B %Y}"
    return f"{text} at {moment:%H:%M} UTC" if with_time else text


def _words(value: str | None) -> str:
    """`fraud_prevention` → "fraud prevention": codes read as words on a page."""
    return (value or "").replace("_", " ").replace("-", " ")


def build_environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader(
            [
                FileSystemLoader(HERE / "templates"),
                PrefixLoader({"govuk_frontend_jinja": FileSystemLoader(_GOVUK_TEMPLATES)}),
            ]
        ),
        autoescape=select_autoescape(["html"]),
        # The port's template.html calls macros without arguments (STACK.md).
        undefined=ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["date"] = _date
    env.filters["words"] = _words
    return env


def inline_script_hashes() -> list[str]:
    """CSP hashes of the inline `js-enabled` snippet template.html writes (no other inline script).

    Taken from the installed template itself, so an upgrade that changes the snippet keeps
    working instead of silently losing the class.
    """
    text = (_GOVUK_TEMPLATES / "template.html").read_text()
    found = re.findall(r"<script[^>]*>(.*?)</script>", text, flags=re.S)
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in found
        if "{{" not in body
    ]


TEMPLATES = build_environment()


def render(name: str, context: dict[str, Any]) -> str:
    return TEMPLATES.get_template(name).render(context)
