"""Reviewer pages: the queue, claiming, deciding with a finding per guideline, the second
approval, and changing a kitemark. Reviewers only; never their own organisation's releases."""

from __future__ import annotations

import re

from tests.web.conftest import MakeVisitor, Visitor


async def _queued(reviewer: Visitor) -> list[str]:
    return re.findall(r'href="/review/releases/(rel_\w+)"', (await reviewer.get("/review")).text)


async def _release_of(reviewer: Visitor, name: str) -> str:
    page = (await reviewer.get("/review")).text
    found = re.search(r'href="/review/releases/(rel_\w+)">' + re.escape(name), page)
    assert found, page
    return found.group(1)


async def test_queue_is_for_reviewers_only(demo: None, make_visitor: MakeVisitor) -> None:
    amara = await make_visitor("reviewer")
    r = await amara.get("/review")
    assert r.status_code == 200
    assert "Roundabout Car Club" in r.text and "Second Chapter Skills Passport" in r.text
    for who in ("citizen", "provider"):
        other = await make_visitor(who)
        assert (await other.get("/review")).status_code == 403
        assert (await other.get(f"/review/releases/{(await _queued(amara))[0]}")).status_code == 403


async def test_claim_decide_with_errors_kept_then_approve(
    demo: None, make_visitor: MakeVisitor
) -> None:
    amara = await make_visitor("reviewer")
    release_id = await _release_of(amara, "Second Chapter Work Ready")
    page = f"/review/releases/{release_id}"
    shown = await amara.get(page)
    assert "The manifest" in shown.text and "Automated report" in shown.text
    assert "Record decision" not in shown.text  # claim first
    r = await amara.submit(page, f"{page}/claim", {})
    assert r.status_code == 303 and r.headers["location"].endswith("done=claimed")
    claimed = (await amara.get(page)).text
    codes = re.findall(r'name="finding-([A-Z0-9-]+)"', claimed)
    assert codes, "a finding per guideline"
    scopes = re.findall(r'name="scopes" type="checkbox" value="([^"]+)" checked', claimed)
    assert scopes == ["employment.history.read", "driving.licence.verify"]
    # No decision chosen: the error summary, and every finding and note kept as sent.
    findings = {f"finding-{c}": "pass" for c in codes}
    r = await amara.submit(
        page, f"{page}/decision", {**findings, f"note-{codes[0]}": "Checked by hand."}
    )
    assert r.status_code == 400 and "Select a decision" in r.text
    assert ">Checked by hand.</textarea>" in r.text
    # The API's limits (DecisionIn), in the form's words, on the field they are about.
    r = await amara.submit(
        page,
        f"{page}/decision",
        {
            **findings,
            f"finding-{codes[1]}": "",
            f"note-{codes[0]}": "n" * 2001,
            "outcome": "reject",
            "note": "n" * 5001,
        },
    )
    assert r.status_code == 400
    assert f"The note on {codes[0]} must be 2000 characters or fewer" in r.text
    assert f'href="#note-{codes[0]}"' in r.text
    assert f"Select a finding for {codes[1]}" in r.text
    assert "The note must be 5000 characters or fewer" in r.text
    # Approving with a failed blocking guideline: the service's rule, shown on the form.
    r = await amara.submit(
        page,
        f"{page}/decision",
        {**findings, f"finding-{codes[0]}": "fail", "outcome": "approve", "scopes": scopes},
    )
    assert r.status_code == 400 and "govuk-error-summary" in r.text
    r = await amara.submit(
        page, f"{page}/decision", {**findings, "outcome": "approve", "scopes": scopes}
    )
    assert r.status_code == 303 and r.headers["location"].endswith("done=decided")
    assert "Your decision was recorded" in (await amara.get(r.headers["location"])).text


async def test_second_approval_by_a_different_reviewer(
    demo: None, make_visitor: MakeVisitor
) -> None:
    amara = await make_visitor("reviewer")
    release_id = await _release_of(amara, "Roundabout Car Club")  # a high-sensitivity scope
    page = f"/review/releases/{release_id}"
    await amara.submit(page, f"{page}/claim", {})
    claimed = (await amara.get(page)).text
    codes = re.findall(r'name="finding-([A-Z0-9-]+)"', claimed)
    scopes = re.findall(r'name="scopes" type="checkbox" value="([^"]+)" checked', claimed)
    r = await amara.submit(
        page,
        f"{page}/decision",
        {**{f"finding-{c}": "pass" for c in codes}, "outcome": "approve", "scopes": scopes},
    )
    assert r.status_code == 303
    after = (await amara.get(page)).text
    assert "Awaiting second approval" in after and "Record second approval" not in after
    fiona = await make_visitor("second_reviewer")
    assert "Roundabout Car Club" in (await fiona.get("/review")).text
    r = await fiona.submit(page, f"{page}/second-approval", {"second_outcome": "reject"})
    assert r.status_code == 400 and "Say why you do not agree" in r.text
    r = await fiona.submit(page, f"{page}/second-approval", {"second_outcome": "approve"})
    assert r.status_code == 303 and r.headers["location"].endswith("done=second")
    assert "Published" in (await fiona.get(page)).text


async def test_a_lower_tier_can_be_granted_instead(demo: None, make_visitor: MakeVisitor) -> None:
    amara = await make_visitor("reviewer")
    release_id = await _release_of(amara, "Second Chapter Skills Passport")
    page = f"/review/releases/{release_id}"
    await amara.submit(page, f"{page}/claim", {})
    claimed = (await amara.get(page)).text
    assert "or a lower tier" in claimed
    offered = re.findall(r'name="scopes" type="checkbox" value="([^"]+)"', claimed)
    assert "education.qualifications.verify" in offered  # below the requested record tier
    assert "income.verify" not in offered  # not from a data owner the service asked
    codes = re.findall(r'name="finding-([A-Z0-9-]+)"', claimed)
    r = await amara.submit(
        page,
        f"{page}/decision",
        {
            **{f"finding-{c}": "pass" for c in codes},
            "outcome": "approve",
            "scopes": ["education.qualifications.verify", "benefits.entitlement.verify"],
        },
    )
    assert r.status_code == 303
    decided = (await amara.get(page)).text
    assert "education.qualifications.verify, benefits.entitlement.verify" in decided or (
        "benefits.entitlement.verify, education.qualifications.verify" in decided
    )


async def test_suspend_a_kitemark_with_a_reason(demo: None, make_visitor: MakeVisitor) -> None:
    amara = await make_visitor("reviewer")
    ada = await make_visitor("provider")
    services = (await ada.get("/provider")).text
    service_id = re.search(r"/provider/services/(svc_\w+)", services).group(1)  # type: ignore[union-attr]
    release_id = re.search(
        r"/releases/(rel_\w+)", (await ada.get(f"/provider/services/{service_id}")).text
    ).group(1)  # type: ignore[union-attr]
    page = f"/review/releases/{release_id}"
    shown = (await amara.get(page)).text
    kitemark_id = re.search(r'action="/review/kitemarks/(\w+)"', shown).group(1)  # type: ignore[union-attr]
    action = f"/review/kitemarks/{kitemark_id}"
    r = await amara.submit(page, action, {"release_id": release_id, "action": "suspend"})
    assert r.status_code == 400 and "Give a reason" in r.text
    # The API's limits (ReasonIn), in the form's words.
    r = await amara.submit(
        page, action, {"release_id": release_id, "action": "suspend", "reason": "ok"}
    )
    assert r.status_code == 400 and "The reason must be at least 3 characters" in r.text
    r = await amara.submit(
        page, action, {"release_id": release_id, "action": "suspend", "reason": "r" * 501}
    )
    assert r.status_code == 400 and "The reason must be 500 characters or fewer" in r.text
    r = await amara.submit(
        page,
        action,
        {"release_id": release_id, "action": "suspend", "reason": "Clinical safety officer left."},
    )
    assert r.status_code == 303
    assert "Suspended" in (await amara.get(page)).text
    catalogue = (await amara.get("/services/kestrel-medicines")).text
    assert "not valid now" in catalogue
    # A citizen cannot change kitemarks.
    joan = await make_visitor("citizen")
    r = await joan.submit("/account", action, {"action": "revoke", "reason": "Nope nope"})
    assert r.status_code == 403
