"""What every web page shares: the visit (who, which form, which CSRF token), rendering, error pages."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from marketplace import errors
from marketplace.accounts.models import Role
from marketplace.auth import Principal
from marketplace.platform import Platform
from web import sessions
from web.templating import inline_script_hashes, render

logger = logging.getLogger("govstore.web")

NO_STORE = {"Cache-Control": "no-store"}
# No inline script but GOV.UK Frontend's `js-enabled` snippet (allowed by its hash), no framing,
# forms post only to this site (the consent screen adds the service's redirect origin).
_SCRIPT_HASHES = " ".join(inline_script_hashes())


def content_security_policy(form_action: str = "'self'") -> str:
    return (
        "default-src 'self'; "
        f"script-src 'self' {_SCRIPT_HASHES}; "
        "style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; "
        f"form-action {form_action}; frame-ancestors 'none'"
    )


# Forms are short; a bigger body is refused before it is parsed.
MAX_FORM_BYTES = 64 * 1024


@dataclass
class Visit:
    """One request to a web page."""

    request: Request
    platform: Platform
    principal: Principal | None
    session_token: str | None
    form: FormData = field(default_factory=FormData)
    # A fresh anonymous form cookie to set on the response (signed-out visitors' forms).
    new_form_cookie: str | None = None

    @property
    def user(self) -> Principal:
        assert self.principal is not None, "the page is declared signed_in"
        return self.principal

    def has_role(self, role: Role) -> bool:
        return self.principal is not None and self.principal.has_role(role)

    @property
    def csrf(self) -> str:
        bound = self.session_token or self.request.cookies.get(sessions.ANONYMOUS_COOKIE)
        if not bound:
            if self.new_form_cookie is None:
                self.new_form_cookie = secrets.token_urlsafe(32)
            bound = self.new_form_cookie
        return sessions.csrf_token(self.platform, bound)

    def field(self, name: str) -> str:
        value = self.form.get(name)
        return value.strip() if isinstance(value, str) else ""

    def fields(self, name: str) -> list[str]:
        return [v for v in self.form.getlist(name) if isinstance(v, str)]


@dataclass
class FormErrors:
    """Errors for the GOV.UK error summary and the inline messages, keyed by field id."""

    by_field: dict[str, str] = field(default_factory=dict)

    def add(self, field_id: str, message: str) -> None:
        self.by_field.setdefault(field_id, message)

    def __bool__(self) -> bool:
        return bool(self.by_field)

    @property
    def summary(self) -> list[dict[str, str]]:
        return [{"text": m, "href": f"#{f}"} for f, m in self.by_field.items()]

    def message(self, field_id: str) -> dict[str, str] | None:
        text = self.by_field.get(field_id)
        return {"text": text} if text else None


@dataclass(frozen=True)
class Wording:
    """A form field's messages in the page's words (GOV.UK style). The rules themselves come from
    the API's input model (`validated`), so a limit changed there is the page's limit too."""

    missing: str  # empty, not chosen, or not one of the choices
    too_long: str = ""  # "Your comment must be {max_length} characters or fewer"
    refused: str = ""  # the model's pattern refused it (control characters, only spaces)
    too_short: str = ""  # "The reason must be at least {min_length} characters"

    def message(self, error: ErrorDetails) -> str:
        ctx = error.get("ctx") or {}
        if error.get("input") in ("", None):
            return self.missing
        if error["type"] == "string_too_long" and self.too_long:
            return self.too_long.format(max_length=ctx.get("max_length"))
        if error["type"] == "string_too_short" and self.too_short:
            return self.too_short.format(min_length=ctx.get("min_length"))
        if error["type"] == "string_pattern_mismatch" and self.refused:
            return self.refused
        return self.missing


Model = TypeVar("Model", bound=BaseModel)
# Where an error of the model is shown: the form field's id and its wording, from the error's
# location in the model (("findings", 2, "note"), say); None for the message pydantic gives.
Placement = Callable[[tuple[int | str, ...]], tuple[str, Wording] | None]


def validated(
    model: type[Model],
    values: dict[str, Any],
    problems: FormErrors,
    wording: dict[str, Wording] | Placement,
) -> Model | None:
    """The form's values through the API's own input model, or None with each field's problem
    added to `problems` (the first per field) in the page's words. `wording` names the fields
    by the model's top-level names, or places nested errors itself."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            name = str(loc[0]) if loc else ""
            if callable(wording):
                placed = wording(loc)
            else:
                placed = (name, wording[name]) if name in wording else None
            if placed is None:
                problems.add(name, error["msg"])
            else:
                problems.add(placed[0], placed[1].message(error))
        return None


def navigation(visit: Visit) -> list[dict[str, Any]]:
    path = visit.request.url.path
    items: list[dict[str, Any]] = [{"href": "/", "text": "Find a service"}]
    if visit.has_role(Role.CITIZEN):
        items.append({"href": "/account", "text": "Your data"})
    if visit.has_role(Role.PROVIDER):
        items.append({"href": "/provider", "text": "Your services"})
    if visit.has_role(Role.REVIEWER):
        items.append({"href": "/review", "text": "Review queue"})
    for item in items:
        href = item["href"]
        item["active"] = path == href or (href != "/" and path.startswith(href + "/"))
    return items


def page_response(
    visit: Visit, template: str, status: int = 200, form_action: str = "'self'", **context: Any
) -> HTMLResponse:
    body = render(
        template,
        {
            "visit": visit,
            "principal": visit.principal,
            "csrf_token": visit.csrf,
            "navigation": navigation(visit),
            "path": visit.request.url.path,
            **context,
        },
    )
    response = HTMLResponse(
        body,
        status_code=status,
        headers={**NO_STORE, "Content-Security-Policy": content_security_policy(form_action)},
    )
    if visit.new_form_cookie is not None:
        sessions.set_cookie(
            response, visit.platform, sessions.ANONYMOUS_COOKIE, visit.new_form_cookie, None
        )
    return response


def render_for(
    request: Request,
    principal: Principal | None,
    session_token: str | None,
    template: str,
    *,
    status: int = 200,
    form_action: str = "'self'",
    **context: Any,
) -> HTMLResponse:
    """A page for a request the web routes did not wrap (the OAuth consent screen)."""
    visit = Visit(request, request.app.state.platform, principal, session_token)
    return page_response(visit, template, status=status, form_action=form_action, **context)


def redirect(location: str) -> RedirectResponse:
    """POST-redirect-GET: 303 so the browser follows with a GET."""
    return RedirectResponse(location, status_code=303, headers=NO_STORE)


def error_page(visit: Visit, status: int, title: str, detail: str) -> HTMLResponse:
    return page_response(visit, "error.html", status=status, title=title, detail=detail)


def not_found(visit: Visit) -> HTMLResponse:
    return error_page(
        visit,
        404,
        "Page not found",
        "If you typed the web address, check it is correct. If you followed a link, the page "
        "may have moved or you may not have permission to see it.",
    )


def safe_next(value: str | None) -> str:
    """Only a path on this site: never another origin (`//host`, `/\\host`, or either with the
    tabs and newlines browsers drop from URLs)."""
    if (
        not value
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(c) < 33 or ord(c) == 127 for c in value)
    ):
        return "/account"
    return value


Handler = Callable[[Visit], Awaitable[Response]]


async def _read_form(request: Request) -> FormData | None:
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_FORM_BYTES:
        return None
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        return None
    return await request.form(max_files=0, max_fields=200)


def web_route(
    path: str,
    handler: Handler,
    *,
    methods: Sequence[str] = ("GET",),
    signed_in: bool = False,
    role: Role | None = None,
) -> Route:
    """A page: who may see it, CSRF on every POST, domain errors shown as GOV.UK error pages."""

    async def endpoint(request: Request) -> Response:
        platform: Platform = request.app.state.platform
        found = await sessions.signed_in(request, platform)
        principal, token = found if found else (None, None)
        visit = Visit(request, platform, principal, token)
        if (signed_in or role is not None) and principal is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return redirect(f"/sign-in?next={quote(target, safe='')}")
        if role is not None and not visit.has_role(role):
            return error_page(
                visit, 403, "You cannot use this page", f"This page is for {role.value}s only."
            )
        if request.method == "POST":
            form = await _read_form(request)
            if form is None:
                return error_page(
                    visit, 400, "Sorry, there is a problem", "The form could not be read."
                )
            visit.form = form
            bound = token or request.cookies.get(sessions.ANONYMOUS_COOKIE)
            if not sessions.csrf_ok(platform, bound, visit.field(sessions.CSRF_FIELD)):
                return error_page(
                    visit,
                    403,
                    "Your form has expired",
                    "For your security, go back, reload the page and try again.",
                )
        try:
            return await handler(visit)
        except errors.NotFound:
            return not_found(visit)
        except errors.Forbidden as exc:
            return error_page(visit, 403, "You cannot do this", exc.detail)
        except errors.Conflict as exc:
            return error_page(visit, 409, "This cannot be done now", exc.detail)
        except errors.RateLimited as exc:
            response = error_page(visit, 429, "Too many attempts", exc.detail)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except errors.DomainError as exc:
            return error_page(visit, 400, "Sorry, there is a problem", exc.detail)

    endpoint.__name__ = handler.__name__
    return Route(path, endpoint, methods=list(methods), include_in_schema=False)
