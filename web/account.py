"""The citizen's account: who can see my data (consents, revoke), the access log, export, erasure."""

from __future__ import annotations

from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.responses import Response
from starlette.routing import Route

from catalogue import account as citizen_records
from catalogue import views as catalogue_views
from kitemarks import consents
from kitemarks import views as kitemark_views
from kitemarks.models import ConsentStatus
from marketplace import errors
from marketplace.accounts.models import Role
from marketplace.pagination import ListQuery
from web import sessions
from web.pages import FormErrors, Visit, page_response, redirect, web_route

_BANNERS = {"revoked": "Consent withdrawn. The service can no longer see your data."}


async def dashboard(visit: Visit) -> Response:
    """Who can see my data: every consent, newest first, with its last access and a revoke button."""
    cursor = visit.request.query_params.get("cursor") or None
    try:
        query = ListQuery(limit=20, cursor=cursor)
        async with visit.platform.db.session(write=False) as session:
            page = await kitemark_views.list_consents(session, visit.user, query)
    except (ValidationError, errors.MalformedRequest):
        return redirect("/account")
    active = [c for c in page.items if c.status is ConsentStatus.ACTIVE]
    ended = [c for c in page.items if c.status is not ConsentStatus.ACTIVE]
    return page_response(
        visit,
        "account.html",
        title="Who can see your data",
        active=active,
        ended=ended,
        next_url=f"/account?{urlencode({'cursor': page.next_cursor})}"
        if page.next_cursor
        else None,
        first_url="/account" if cursor else None,
        banner=_BANNERS.get(visit.request.query_params.get("done", "")),
    )


async def revoke(visit: Visit) -> Response:
    """GET asks to confirm; POST withdraws the consent (anyone else's consent is a 404)."""
    consent_id = visit.request.path_params["consent_id"]
    if visit.request.method == "POST":
        async with visit.platform.db.transaction() as session:
            await consents.revoke_consent(session, visit.user, consent_id)
        return redirect("/account?done=revoked")
    async with visit.platform.db.session(write=False) as session:
        consent = await kitemark_views.get_consent(session, visit.user, consent_id)
    if consent.status is not ConsentStatus.ACTIVE:
        return redirect("/account")
    return page_response(
        visit, "revoke.html", title=f"Stop {consent.service.name} seeing your data", consent=consent
    )


async def access_log(visit: Visit) -> Response:
    params = visit.request.query_params
    try:
        query = catalogue_views.AccessLogQuery(
            limit=25, cursor=params.get("cursor") or None, service=params.get("service") or None
        )
        lines, next_cursor = await citizen_records.access_log_page(
            visit.platform.db.raw,
            visit.user.account_id,
            service=query.service,
            since=None,
            until=None,
            cursor=query.cursor,
            limit=query.limit,
        )
        async with visit.platform.db.session(write=False) as session:
            services = await kitemark_views.list_consents(session, visit.user, ListQuery(limit=100))
    except (ValidationError, errors.MalformedRequest):
        return redirect("/account/access-log")
    kept = {"service": query.service} if query.service else {}
    choices = sorted({(c.service.slug, c.service.name) for c in services.items}, key=lambda s: s[1])
    return page_response(
        visit,
        "access_log.html",
        title="When your data was read",
        lines=[catalogue_views.AccessLine(**line) for line in lines],
        services=choices,
        chosen=query.service or "",
        next_url=(
            "/account/access-log?" + urlencode({**kept, "cursor": next_cursor})
            if next_cursor
            else None
        ),
        first_url=("/account/access-log?" + urlencode(kept)) if params.get("cursor") else None,
    )


async def export_page(visit: Visit) -> Response:
    return page_response(visit, "export.html", title="Get a copy of your data")


async def export_download(visit: Visit) -> Response:
    async with visit.platform.db.session(write=False) as session:
        document = await catalogue_views.export_me(session, visit.user)
    return Response(
        document.model_dump_json(indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="govstore-my-data.json"',
            "Cache-Control": "no-store",
        },
    )


async def delete_account(visit: Visit) -> Response:
    problems = FormErrors()
    if visit.request.method == "POST":
        password = visit.form.get("password")
        password = password if isinstance(password, str) else ""
        if visit.field("confirm") != "yes":
            problems.add("confirm", "Confirm that you want to delete your account")
        if not password:
            problems.add("password", "Enter your password")
        if not problems:
            try:
                async with visit.platform.db.transaction() as session:
                    await citizen_records.erase(
                        session, visit.platform.passwords, visit.user, password
                    )
            except errors.Forbidden:
                problems.add("password", "Your password is not right")
            except errors.Conflict as exc:
                problems.add("confirm", exc.detail[:1].upper() + exc.detail[1:])
            else:
                response = redirect("/account/deleted")
                sessions.clear_cookie(response, visit.platform, sessions.COOKIE)
                return response
    return page_response(
        visit,
        "delete_account.html",
        status=400 if problems else 200,
        title="Delete your account",
        errors=problems,
    )


async def deleted(visit: Visit) -> Response:
    return page_response(visit, "deleted.html", title="Your account was deleted")


def routes() -> list[Route]:
    return [
        web_route("/account", dashboard, role=Role.CITIZEN),
        web_route(
            "/account/consents/{consent_id}/revoke",
            revoke,
            methods=("GET", "POST"),
            role=Role.CITIZEN,
        ),
        web_route("/account/access-log", access_log, role=Role.CITIZEN),
        web_route("/account/export", export_page, signed_in=True),
        web_route("/account/export/my-data.json", export_download, signed_in=True),
        web_route("/account/delete", delete_account, methods=("GET", "POST"), signed_in=True),
        web_route("/account/deleted", deleted),
    ]
