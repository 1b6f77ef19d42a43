"""Provider pages: organisations and services, release status with every finding (pointer and fix),
reviewer decisions and history, the OAuth client. Members of the organisation only (404 otherwise)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from kitemarks import views as kitemark_views
from marketplace import errors
from marketplace.accounts.models import Role
from marketplace.organisations import views as organisation_views
from marketplace.pagination import ListQuery
from marketplace.releases import views as release_views
from review import views as review_views
from web.pages import Visit, page_response, web_route


async def organisations(visit: Visit) -> Response:
    async with visit.platform.db.session(write=False) as session:
        mine = await organisation_views.list_organisations(
            session, visit.user, ListQuery(limit=100)
        )
        listing = [
            (
                org,
                (
                    await release_views.list_services(
                        session, visit.user, org.id, ListQuery(limit=100)
                    )
                ).items,
            )
            for org in mine.items
        ]
    return page_response(visit, "provider_home.html", title="Your services", listing=listing)


async def service(visit: Visit) -> Response:
    service_id = visit.request.path_params["service_id"]
    async with visit.platform.db.session(write=False) as session:
        found = await kitemark_views.get_service(session, visit.platform, visit.user, service_id)
        organisation = await organisation_views.get_organisation(
            session, visit.user, found.organisation_id
        )
        try:
            client = await kitemark_views.get_oauth_client(session, visit.user, service_id)
        except errors.NotFound:
            client = None
    return page_response(
        visit,
        "provider_service.html",
        title=found.name,
        service=found,
        organisation=organisation,
        client=client,
    )


async def release(visit: Visit) -> Response:
    service_id = visit.request.path_params["service_id"]
    release_id = visit.request.path_params["release_id"]
    async with visit.platform.db.session(write=False) as session:
        found = await kitemark_views.get_service(session, visit.platform, visit.user, service_id)
        detail = await review_views.get_release(session, visit.user, service_id, release_id)
    automated = [f for f in detail.findings if f.source == "automated"]
    reviewer = [f for f in detail.findings if f.source == "reviewer"]
    return page_response(
        visit,
        "provider_release.html",
        title=f"{found.name}, release {detail.number}",
        service=found,
        release=detail,
        automated=automated,
        reviewer=reviewer,
    )


def routes() -> list[Route]:
    return [
        web_route("/provider", organisations, role=Role.PROVIDER),
        web_route("/provider/services/{service_id}", service, role=Role.PROVIDER),
        web_route(
            "/provider/services/{service_id}/releases/{release_id}", release, role=Role.PROVIDER
        ),
    ]
