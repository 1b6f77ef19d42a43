"""Reviewer pages: the queue, claiming, the review page (manifest, automated report, a finding per
guideline, grants), the second approval, and suspending or revoking a kitemark."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from sqlmodel import select
from starlette.responses import Response
from starlette.routing import Route

from kitemarks import grants
from kitemarks import views as kitemark_views
from marketplace import errors
from marketplace.accounts.models import Role
from marketplace.guidelines.models import Guideline, KitemarkScheme, Scope
from marketplace.pagination import ListQuery
from marketplace.releases.lifecycle import ReleaseStatus
from marketplace.releases.models import Release
from review import services as review
from review import views as review_views
from review.models import FindingResult, Outcome
from web.pages import (
    FormErrors,
    Placement,
    Visit,
    Wording,
    page_response,
    redirect,
    validated,
    web_route,
)

OUTCOMES = {
    Outcome.APPROVE: "Approve",
    Outcome.REQUEST_CHANGES: "Request changes",
    Outcome.REJECT: "Reject",
}
RESULTS = {
    FindingResult.PASS: "Pass",
    FindingResult.FAIL: "Fail",
    FindingResult.NOT_APPLICABLE: "Not applicable",
}
_BANNERS = {
    "claimed": "You claimed this release. Record a finding for each guideline, then decide.",
    "decided": "Your decision was recorded.",
    "second": "Your second approval was recorded.",
    "kitemark": "The kitemark was changed. The catalogue and the status endpoint show it now.",
}


async def queue(visit: Visit) -> Response:
    cursor = visit.request.query_params.get("cursor") or None
    try:
        query = ListQuery(limit=20, cursor=cursor)
        async with visit.platform.db.session(write=False) as session:
            page = await review_views.review_queue(session, visit.user, query)
            seconds = await review.second_approval_queue(session, visit.user)
    except (ValidationError, errors.MalformedRequest):
        return redirect("/review")
    return page_response(
        visit,
        "review_queue.html",
        title="Review queue",
        items=page.items,
        seconds=seconds,
        next_url=f"/review?cursor={page.next_cursor}" if page.next_cursor else None,
        first_url="/review" if cursor else None,
    )


async def _review_context(visit: Visit, release_id: str) -> dict[str, Any]:
    async with visit.platform.db.session(write=False) as session:
        release = await review_views.reviewer_release(session, visit.user, release_id)
        stored = await session.get(Release, release_id)
        assert stored is not None
        guidelines = sorted(
            (
                await session.exec(
                    select(Guideline).where(Guideline.version_id == stored.guideline_version_id)
                )
            ).all(),
            key=lambda g: g.position,
        )
        schemes = {s.slug: s for s in (await session.exec(select(KitemarkScheme))).all()}
        scopes = {s.name: s for s in (await session.exec(select(Scope))).all()}
        latest = await review.latest_decision(session, release_id)
        kitemarks = await kitemark_views.list_kitemarks(
            session, visit.platform, release.service_id, ListQuery(limit=50)
        )
    automated = {f.code: f for f in release.findings if f.source == "automated"}
    applied = [k.get("scheme") for k in release.manifest.get("kitemarks", [])]
    requested = [u.get("scope") for u in release.manifest.get("data_uses", [])]
    asked = [scopes[name] for name in requested if name in scopes]
    # A reviewer may grant a lower tier of a requested scope (same data owner) instead.
    lower_tiers = [
        s
        for name, s in sorted(scopes.items())
        if name not in requested
        and any(r.data_owner == s.data_owner and r.tier.rank > s.tier.rank for r in asked)
    ]
    return {
        "release": release,
        "guidelines": guidelines,
        "automated": automated,
        "applied": [(slug, schemes[slug].title if slug in schemes else slug) for slug in applied],
        "requested": [(name, scopes.get(name)) for name in requested],
        "lower_tiers": lower_tiers,
        "kitemarks": [k for k in kitemarks.items if k.status in grants.LIVE],
        "scheme_titles": {slug: s.title for slug, s in schemes.items()},
        "claimed_by_me": release.claimed_by == visit.user.account_id
        and release.status is ReleaseStatus.IN_REVIEW,
        "can_second_approve": release.status is ReleaseStatus.AWAITING_SECOND_APPROVAL
        and latest is not None
        and latest.reviewer_id != visit.user.account_id,
        "outcomes": OUTCOMES,
        "results": RESULTS,
    }


def _default_values(context: dict[str, Any]) -> dict[str, Any]:
    """Start from the automated report: a failed check proposes a failed finding."""
    automated = context["automated"]
    return {
        "outcome": "",
        "note": "",
        "kitemarks": [slug for slug, _ in context["applied"]],
        "scopes": [name for name, _ in context["requested"]],
        "findings": {
            g.code: (
                automated[g.code].result.value
                if g.code in automated and automated[g.code].result != "not_applicable"
                else FindingResult.PASS.value
            )
            for g in context["guidelines"]
        },
        "finding_notes": {g.code: "" for g in context["guidelines"]},
    }


async def release_page(visit: Visit) -> Response:
    release_id = visit.request.path_params["release_id"]
    context = await _review_context(visit, release_id)
    return page_response(
        visit,
        "review_release.html",
        title=f"Review {context['release'].service_name}",
        values=_default_values(context),
        errors=FormErrors(),
        banner=_BANNERS.get(visit.request.query_params.get("done", "")),
        **context,
    )


async def claim(visit: Visit) -> Response:
    release_id = visit.request.path_params["release_id"]
    async with visit.platform.db.transaction() as session:
        await review.claim(
            session,
            visit.user,
            release_id,
            lease=timedelta(minutes=visit.platform.settings.review_lease_minutes),
        )
    return redirect(f"/review/releases/{release_id}?done=claimed")


def _pointer_field(pointer: str, guidelines: list[Guideline]) -> str:
    """An error's JSON pointer from the service, as the id of the form field it is about."""
    parts = pointer.strip("/").split("/")
    if parts[0] == "findings" and len(parts) > 1 and parts[1].isdigit():
        index = int(parts[1])
        if index < len(guidelines):
            return f"finding-{guidelines[index].code}"
    return {"kitemarks": "kitemarks", "scopes": "scopes", "note": "note"}.get(parts[0], "outcome")


def _decision_placement(guidelines: list[Guideline]) -> Placement:
    """Where the decision form shows each of `DecisionIn`'s errors, and in which words."""

    def place(loc: tuple[int | str, ...]) -> tuple[str, Wording] | None:
        if loc[:1] == ("findings",) and len(loc) >= 3 and isinstance(loc[1], int):
            code = guidelines[loc[1]].code if loc[1] < len(guidelines) else ""
            if loc[2] == "note":
                return f"note-{code}", Wording(
                    f"Enter a note on {code}",
                    too_long=f"The note on {code} must be {{max_length}} characters or fewer",
                )
            return f"finding-{code}", Wording(f"Select a finding for {code}")
        if loc[:1] in (("kitemarks",), ("scopes",)):
            return str(loc[0]), Wording(f"Choose the {loc[0]} to grant from the list")
        if loc[:1] == ("note",):
            return "note", Wording(
                "Enter a note", too_long="The note must be {max_length} characters or fewer"
            )
        return "outcome", Wording("Select a decision")

    return place


async def decide(visit: Visit) -> Response:
    release_id = visit.request.path_params["release_id"]
    context = await _review_context(visit, release_id)
    guidelines: list[Guideline] = context["guidelines"]
    outcome_value = visit.field("outcome")
    note = visit.field("note")
    kitemarks = visit.fields("kitemarks")
    scopes = visit.fields("scopes")
    results = {g.code: visit.field(f"finding-{g.code}") for g in guidelines}
    notes = {g.code: visit.field(f"note-{g.code}") for g in guidelines}
    values: dict[str, Any] = {
        "outcome": outcome_value,
        "note": note,
        "kitemarks": kitemarks,
        "scopes": scopes,
        "findings": results,
        "finding_notes": notes,
    }
    problems = FormErrors()
    decision = validated(
        review_views.DecisionIn,
        {
            "outcome": outcome_value or None,
            "findings": [
                {"code": g.code, "result": results[g.code] or None, "note": notes[g.code] or None}
                for g in guidelines
            ],
            "kitemarks": kitemarks,
            "scopes": scopes,
            "note": note or None,
        },
        problems,
        _decision_placement(guidelines),
    )
    if decision is not None:
        approving = decision.outcome is Outcome.APPROVE
        try:
            async with visit.platform.db.transaction() as session:
                await review.decide(
                    session,
                    visit.user,
                    release_id,
                    outcome=decision.outcome,
                    findings=[
                        review.FindingInput(f.code, f.result, f.note) for f in decision.findings
                    ],
                    kitemarks=decision.kitemarks if approving else [],
                    scopes=decision.scopes if approving else [],
                    note=decision.note,
                    on_approved=visit.platform.on_approval,
                )
        except errors.ValidationFailed as exc:
            for problem in exc.errors:
                field_id = _pointer_field(problem.pointer, guidelines)
                problems.add(field_id, problem.detail[:1].upper() + problem.detail[1:])
        else:
            return redirect(f"/review/releases/{release_id}?done=decided")
    return page_response(
        visit,
        "review_release.html",
        status=400,
        title=f"Review {context['release'].service_name}",
        values=values,
        errors=problems,
        **context,
    )


def _second_approval_placement(loc: tuple[int | str, ...]) -> tuple[str, Wording]:
    if loc[:1] == ("note",):
        return "second_note", Wording(
            "Say why you do not agree", too_long="The note must be {max_length} characters or fewer"
        )
    return "second_outcome", Wording("Select whether you agree")


_REASON_WORDS = Wording(
    "Give a reason for the change",
    too_long="The reason must be {max_length} characters or fewer",
    too_short="The reason must be at least {min_length} characters",
    refused="Give a reason for the change",
)


async def second_approval(visit: Visit) -> Response:
    release_id = visit.request.path_params["release_id"]
    problems = FormErrors()
    outcome = visit.field("second_outcome")
    note = visit.field("second_note")
    approval = validated(
        review_views.SecondApprovalIn,
        {"outcome": outcome or None, "note": note or None},
        problems,
        _second_approval_placement,
    )
    if approval is not None and approval.outcome is not Outcome.APPROVE and not note:
        problems.add("second_note", "Say why you do not agree")
    if approval is not None and not problems:
        try:
            async with visit.platform.db.transaction() as session:
                await review.second_approval(
                    session,
                    visit.user,
                    release_id,
                    outcome=approval.outcome,
                    note=approval.note,
                    on_approved=visit.platform.on_approval,
                )
        except errors.ValidationFailed as exc:
            for problem in exc.errors:
                problems.add("second_note", problem.detail[:1].upper() + problem.detail[1:])
        else:
            return redirect(f"/review/releases/{release_id}?done=second")
    context = await _review_context(visit, release_id)
    values = _default_values(context) | {"second_outcome": outcome, "second_note": note}
    return page_response(
        visit,
        "review_release.html",
        status=400,
        title=f"Review {context['release'].service_name}",
        values=values,
        errors=problems,
        **context,
    )


async def change_kitemark(visit: Visit) -> Response:
    """Suspend or revoke a live kitemark, with a reason (back to the release it came from)."""
    kitemark_id = visit.request.path_params["kitemark_id"]
    action = visit.field("action")
    reason = visit.field("reason")
    back = visit.field("release_id")
    if not back.replace("_", "").isalnum():
        back = ""
    problems = FormErrors()
    if action not in {"suspend", "revoke"}:
        problems.add(f"action-{kitemark_id}", "Select suspend or revoke")
    validated(
        kitemark_views.ReasonIn,
        {"reason": reason},
        problems,
        lambda _loc: (f"reason-{kitemark_id}", _REASON_WORDS),
    )
    if not problems:
        async with visit.platform.db.transaction() as session:
            grant = await grants.change_kitemark(session, visit.user, kitemark_id, action, reason)
        return redirect(f"/review/releases/{back or grant.release_id}?done=kitemark")
    context = await _review_context(visit, back)
    return page_response(
        visit,
        "review_release.html",
        status=400,
        title=f"Review {context['release'].service_name}",
        values=_default_values(context)
        | {"kitemark_action": action, "kitemark_reason": reason, "kitemark_id": kitemark_id},
        errors=problems,
        **context,
    )


def routes() -> list[Route]:
    return [
        web_route("/review", queue, role=Role.REVIEWER),
        web_route("/review/releases/{release_id}", release_page, role=Role.REVIEWER),
        web_route(
            "/review/releases/{release_id}/claim", claim, methods=("POST",), role=Role.REVIEWER
        ),
        web_route(
            "/review/releases/{release_id}/decision", decide, methods=("POST",), role=Role.REVIEWER
        ),
        web_route(
            "/review/releases/{release_id}/second-approval",
            second_approval,
            methods=("POST",),
            role=Role.REVIEWER,
        ),
        web_route(
            "/review/kitemarks/{kitemark_id}",
            change_kitemark,
            methods=("POST",),
            role=Role.REVIEWER,
        ),
    ]
