"""Sign in, register and sign out: the web session over the account services."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from marketplace import errors
from marketplace.accounts import services as account_services
from marketplace.accounts.models import Role
from web import sessions
from web.pages import FormErrors, Visit, page_response, redirect, safe_next, web_route


async def _start_session(visit: Visit, email: str, password: str) -> str:
    request = visit.request
    address = request.client.host if request.client else "unknown"
    async with visit.platform.db.transaction() as session:
        token, _ = await account_services.login(
            visit.platform, session, email=email, password=password, address=address
        )
    return token


def _signed_in_response(visit: Visit, token: str, location: str) -> Response:
    response = redirect(location)
    ttl = visit.platform.settings.access_token_ttl_seconds
    sessions.set_cookie(response, visit.platform, sessions.COOKIE, token, ttl)
    sessions.clear_cookie(response, visit.platform, sessions.ANONYMOUS_COOKIE)
    return response


async def sign_in(visit: Visit) -> Response:
    next_path = safe_next(visit.request.query_params.get("next"))
    values = {"email": ""}
    problems = FormErrors()
    if visit.request.method == "POST":
        values["email"] = visit.field("email")
        password = visit.form.get("password")
        password = password if isinstance(password, str) else ""
        if not values["email"]:
            problems.add("email", "Enter your email address")
        if not password:
            problems.add("password", "Enter your password")
        if not problems:
            try:
                token = await _start_session(visit, values["email"], password)
            except errors.Unauthenticated:
                problems.add("email", "Enter a correct email address and password")
            else:
                return _signed_in_response(visit, token, next_path)
    return page_response(
        visit,
        "sign_in.html",
        status=400 if problems else 200,
        title="Sign in to GovStore",
        values=values,
        errors=problems,
        next_path=next_path,
    )


ROLE_CHOICES = {"citizen": Role.CITIZEN, "provider": Role.PROVIDER}


async def register(visit: Visit) -> Response:
    values = {"display_name": "", "email": "", "role": "citizen"}
    problems = FormErrors()
    if visit.request.method == "POST":
        values = {k: visit.field(k) for k in values}
        password = visit.form.get("password")
        password = password if isinstance(password, str) else ""
        if not values["display_name"]:
            problems.add("display_name", "Enter your name")
        elif len(values["display_name"]) > 100:
            problems.add("display_name", "Your name must be 100 characters or fewer")
        if not values["email"]:
            problems.add("email", "Enter your email address")
        if not password:
            problems.add("password", "Enter a password")
        if values["role"] not in ROLE_CHOICES:
            problems.add("role", "Select what you will use GovStore for")
        if not problems:
            try:
                async with visit.platform.db.transaction() as session:
                    await account_services.register(
                        visit.platform,
                        session,
                        email=values["email"],
                        password=password,
                        display_name=values["display_name"],
                        role=ROLE_CHOICES[values["role"]],
                    )
            except errors.ValidationFailed as exc:
                for problem in exc.errors:
                    field_id = problem.pointer.lstrip("/") or "email"
                    label = "Email address" if field_id == "email" else "Password"
                    problems.add(field_id, f"{label} {problem.detail}")
            except errors.Conflict:
                problems.add("email", "An account with this email address already exists")
            else:
                token = await _start_session(visit, values["email"], password)
                return _signed_in_response(visit, token, "/account")
    return page_response(
        visit,
        "register.html",
        status=400 if problems else 200,
        title="Create a GovStore account",
        values=values,
        errors=problems,
    )


async def sign_out(visit: Visit) -> Response:
    if visit.principal is not None:
        async with visit.platform.db.transaction() as session:
            await account_services.logout(session, visit.principal)
    response = redirect("/")
    sessions.clear_cookie(response, visit.platform, sessions.COOKIE)
    return response


def routes() -> list[Route]:
    return [
        web_route("/sign-in", sign_in, methods=("GET", "POST")),
        web_route("/register", register, methods=("GET", "POST")),
        web_route("/sign-out", sign_out, methods=("POST",), signed_in=True),
    ]
