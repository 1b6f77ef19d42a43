"""The citizen's account pages: who can see my data, revoking, the access log, export, erasure."""

from __future__ import annotations

import re

from tests.web.conftest import MakeVisitor


async def _consent_ids(page: str) -> list[str]:
    return re.findall(r"/account/consents/(cns_\w+)/revoke", page)


async def test_dashboard_lists_every_consent_with_last_access(
    demo: None, make_visitor: MakeVisitor
) -> None:
    joan = await make_visitor("citizen")
    r = await joan.get("/account")
    assert r.status_code == 200
    text = r.text
    assert "Sharing now" in text and "No longer sharing" in text
    assert "Riverside Benefits Check" in text and "Warm Homes Grant Finder" in text
    assert "Fenmoor Concessionary Bus Pass" in text  # withdrawn, listed under no longer sharing
    assert "Last read your data" in text and " UTC" in text
    assert len(await _consent_ids(text)) == 2


async def test_revoke_asks_then_withdraws(demo: None, make_visitor: MakeVisitor) -> None:
    joan = await make_visitor("citizen")
    consent_id = (await _consent_ids((await joan.get("/account")).text))[0]
    page = f"/account/consents/{consent_id}/revoke"
    confirm = await joan.get(page)
    assert confirm.status_code == 200 and "Yes, stop sharing" in confirm.text
    r = await joan.submit(page, page, {})
    assert r.status_code == 303 and r.headers["location"] == "/account?done=revoked"
    after = await joan.get("/account?done=revoked")
    assert "Consent withdrawn" in after.text and consent_id not in await _consent_ids(after.text)
    # Revoking again: the confirmation page sends back to the dashboard; the POST is a conflict.
    assert (await joan.get(page)).status_code == 303


async def test_another_citizens_consent_is_not_found(demo: None, make_visitor: MakeVisitor) -> None:
    joan = await make_visitor("citizen")
    consent_id = (await _consent_ids((await joan.get("/account")).text))[0]
    sam = await make_visitor("other_citizen")
    page = f"/account/consents/{consent_id}/revoke"
    assert (await sam.get(page)).status_code == 404
    r = await sam.submit("/account", page, {})
    assert r.status_code == 404
    # Joan's consent is untouched.
    assert consent_id in await _consent_ids((await joan.get("/account")).text)
    # Providers have no citizen dashboard.
    ada = await make_visitor("provider")
    assert (await ada.get("/account")).status_code == 403


async def test_access_log_shows_who_read_what(demo: None, make_visitor: MakeVisitor) -> None:
    joan = await make_visitor("citizen")
    r = await joan.get("/account/access-log")
    assert r.status_code == 200
    assert "DWP Benefits and Income API" in r.text and "Valuation Office Agency" in r.text
    assert r.text.count('<tr class="govuk-table__row">') == 1 + 5
    only = await joan.get("/account/access-log?service=warm-homes-grant-finder")
    assert only.text.count('<tr class="govuk-table__row">') == 1 + 2
    assert '<option value="warm-homes-grant-finder" selected>' in only.text
    sam = await make_visitor("other_citizen")
    theirs = await sam.get("/account/access-log")
    assert "Valuation Office" not in theirs.text  # only Sam's own reads


async def test_export_downloads_everything_held(demo: None, make_visitor: MakeVisitor) -> None:
    joan = await make_visitor("citizen")
    assert (await joan.get("/account/export")).status_code == 200
    r = await joan.get("/account/export/my-data.json")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    document = r.json()
    assert document["format"] == "govstore-citizen-export/1"
    assert document["account"]["email"] == "joan.pritchard@inbox.example"
    assert len(document["consents"]) == 3 and len(document["access_log"]) == 5


async def test_delete_account_needs_confirmation_and_password(
    demo: None, make_visitor: MakeVisitor
) -> None:
    sam = await make_visitor("other_citizen")
    page = "/account/delete"
    r = await sam.submit(page, page, {"password": "demo-citizen-2026"})
    assert r.status_code == 400 and "Confirm that you want to delete your account" in r.text
    r = await sam.submit(page, page, {"confirm": "yes", "password": "wrong"})
    assert r.status_code == 400 and "Your password is not right" in r.text
    r = await sam.submit(page, page, {"confirm": "yes", "password": "demo-citizen-2026"})
    assert r.status_code == 303 and r.headers["location"] == "/account/deleted"
    assert (await sam.get("/account")).status_code == 303
    gone = await make_visitor()
    r = await gone.submit(
        "/sign-in",
        "/sign-in",
        {"email": "aisha.rahman@inbox.example", "password": "demo-citizen-2026"},
    )
    assert r.status_code == 400
