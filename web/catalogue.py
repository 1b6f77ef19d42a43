"""The citizen's catalogue pages: search with filters and pages, the service page, rating, complaining."""

from __future__ import annotations

from urllib.parse import urlencode

from pydantic import ValidationError
from sqlmodel import select
from starlette.responses import Response
from starlette.routing import Route

from catalogue import feedback, search
from catalogue.models import ComplaintCategory
from catalogue.views import ComplaintIn, RatingIn, build_service_page
from marketplace import errors
from marketplace.accounts.models import Role
from marketplace.guidelines.models import KitemarkScheme
from web.pages import FormErrors, Visit, Wording, page_response, redirect, validated, web_route

SORTS = {"": "Best match", "rating": "Best rated", "newest": "Newest", "name": "Name"}


async def _schemes(visit: Visit) -> list[KitemarkScheme]:
    async with visit.platform.db.session(write=False) as session:
        return list((await session.exec(select(KitemarkScheme))).all())


async def find_a_service(visit: Visit) -> Response:
    params = visit.request.query_params
    values = {k: (params.get(k) or "").strip() for k in ("q", "category", "kitemark", "sort")}
    problems = FormErrors()
    try:
        query = search.SearchQuery(
            q=values["q"] or None,
            category=values["category"] or None,
            kitemark=values["kitemark"] or None,
            sort=values["sort"] or None,
            cursor=params.get("cursor") or None,
            limit=10,
        )
        found = await search.results(visit.platform, query)
    except (ValidationError, errors.MalformedRequest):
        problems.add("q", "Check your search: a filter or the page link is not valid")
        found = search.SearchPage(items=[], next_cursor=None)
    kept = {k: v for k, v in values.items() if v}
    next_url = (
        "/?" + urlencode({**kept, "cursor": found.next_cursor}) if found.next_cursor else None
    )
    first_url = ("/?" + urlencode(kept)) if params.get("cursor") else None
    schemes = await _schemes(visit)
    return page_response(
        visit,
        "catalogue.html",
        status=400 if problems else 200,
        title="Find a service",
        values=values,
        errors=problems,
        results=found.items,
        next_url=next_url,
        first_url=first_url,
        categories=search.CATEGORIES,
        schemes=schemes,
        sorts=SORTS,
    )


async def service(visit: Visit) -> Response:
    slug = visit.request.path_params["slug"]
    async with visit.platform.db.session(write=False) as session:
        page = await build_service_page(session, visit.platform, slug)
        schemes = {s.slug: s.title for s in (await session.exec(select(KitemarkScheme))).all()}
    return page_response(
        visit,
        "service.html",
        title=page.name,
        service=page,
        scheme_titles=schemes,
        banner=_banner(visit),
    )


_BANNERS = {
    "rated": "Thank you: your rating was saved.",
    "complained": "Your complaint was sent. The provider and the GovStore reviewers can see it.",
}


def _banner(visit: Visit) -> str | None:
    return _BANNERS.get(visit.request.query_params.get("done", ""))


async def rate(visit: Visit) -> Response:
    slug = visit.request.path_params["slug"]
    async with visit.platform.db.session(write=False) as session:
        page = await build_service_page(session, visit.platform, slug)
    values = {"stars": "", "comment": ""}
    problems = FormErrors()
    if visit.request.method == "POST":
        values = {"stars": visit.field("stars"), "comment": visit.field("comment")}
        rating = validated(
            RatingIn,
            {"stars": values["stars"] or None, "comment": values["comment"] or None},
            problems,
            RATING_WORDS,
        )
        if rating is not None:
            try:
                async with visit.platform.db.transaction() as session:
                    await feedback.rate(session, visit.user, slug, rating.stars, rating.comment)
            except errors.ValidationFailed as exc:
                for problem in exc.errors:
                    problems.add("comment", problem.detail[:1].upper() + problem.detail[1:])
            else:
                return redirect(f"/services/{slug}?done=rated")
    return page_response(
        visit,
        "rate.html",
        status=400 if problems else 200,
        title=f"Rate {page.name}",
        service=page,
        values=values,
        errors=problems,
    )


RATING_WORDS = {
    "stars": Wording("Select how many stars you give the service"),
    "comment": Wording(
        "Enter your comment", too_long="Your comment must be {max_length} characters or fewer"
    ),
}
COMPLAINT_MIN = 10
COMPLAINT_WORDS = {
    "category": Wording("Select what your complaint is about"),
    "description": Wording(
        f"Say what went wrong in at least {COMPLAINT_MIN} characters",
        too_long="Your complaint must be {max_length} characters or fewer",
        refused="Your complaint must not contain control characters",
    ),
}

COMPLAINT_CATEGORIES = {
    ComplaintCategory.DATA_MISUSE: "My data was misused",
    ComplaintCategory.PRIVACY: "Privacy",
    ComplaintCategory.SECURITY: "Security",
    ComplaintCategory.ACCESSIBILITY: "Accessibility",
    ComplaintCategory.ACCURACY: "Wrong or misleading information",
    ComplaintCategory.SERVICE_QUALITY: "The service did not work well",
    ComplaintCategory.OTHER: "Something else",
}


async def complain(visit: Visit) -> Response:
    slug = visit.request.path_params["slug"]
    async with visit.platform.db.session(write=False) as session:
        page = await build_service_page(session, visit.platform, slug)
    values = {"category": "", "description": ""}
    problems = FormErrors()
    if visit.request.method == "POST":
        values = {"category": visit.field("category"), "description": visit.field("description")}
        complaint = validated(ComplaintIn, values, problems, COMPLAINT_WORDS)
        # The page asks a person for a little more than the API asks a program for.
        if len(values["description"]) < COMPLAINT_MIN:
            problems.add("description", COMPLAINT_WORDS["description"].missing)
        if complaint is not None and not problems:
            settings = visit.platform.settings
            try:
                async with visit.platform.db.transaction() as session:
                    await feedback.complain(
                        session,
                        visit.user,
                        slug,
                        complaint.category,
                        complaint.description,
                        threshold=settings.complaint_review_threshold,
                        window_days=settings.complaint_review_window_days,
                    )
            except errors.ValidationFailed as exc:
                for problem in exc.errors:
                    problems.add("description", problem.detail[:1].upper() + problem.detail[1:])
            else:
                return redirect(f"/services/{slug}?done=complained")
    return page_response(
        visit,
        "complain.html",
        status=400 if problems else 200,
        title=f"Complain about {page.name}",
        service=page,
        values=values,
        errors=problems,
        categories=COMPLAINT_CATEGORIES,
    )


def routes() -> list[Route]:
    return [
        web_route("/", find_a_service),
        web_route("/services/{slug}", service),
        web_route("/services/{slug}/rate", rate, methods=("GET", "POST"), role=Role.CITIZEN),
        web_route(
            "/services/{slug}/complain", complain, methods=("GET", "POST"), role=Role.CITIZEN
        ),
    ]
