"""Sign in, register and sign out: the web session over the account services."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from marketplace import errors
from marketplace.accounts import services as account_services
from marketplace.accounts.models import Role
from marketplace.accounts.views import AccountCreate
from web import sessions
from web.pages import (
    FormErrors,
    Visit,
    Wording,
    page_response,
    redirect,
    safe_next,
    validated,
    web_route,
)


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
SIGN_UP_WORDS = {
    "display_name": Wording(
        "Enter your name",
        too_long="Your name must be {max_length} characters or fewer",
        refused="Enter your name",
    ),
    "email": Wording(
        "Enter your email address",
        too_long="Your email address must be {max_length} characters or fewer",
    ),
    "password": Wording(
        "Enter a password", too_long="Your password must be {max_length} characters or fewer"
    ),
    "role": Wording("Select what you will use GovStore for"),
}


async def register(visit: Visit) -> Response:
    values = {"display_name": "", "email": "", "role": "citizen"}
    problems = FormErrors()
    if visit.request.method == "POST":
        values = {k: visit.field(k) for k in values}
        password = visit.form.get("password")
        password = password if isinstance(password, str) else ""
        account = validated(
            AccountCreate, {**values, "password": password}, problems, SIGN_UP_WORDS
        )
        if account is not None:
            try:
                async with visit.platform.db.transaction() as session:
                    await account_services.register(
                        visit.platform,
                        session,
                        email=account.email,
                        password=account.password,
                        display_name=account.display_name,
                        role=ROLE_CHOICES[account.role],
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
