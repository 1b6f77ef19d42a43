"""What every page shares: security headers, CSRF on every form, sign-in redirects, error pages."""

from __future__ import annotations

import pytest

from tests.web.conftest import MakeVisitor, Visitor


async def test_pages_carry_a_strict_content_security_policy(visitor: Visitor) -> None:
    r = await visitor.get("/")
    assert r.status_code == 200 and "govuk-template" in r.text
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "form-action 'self'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    # The one inline script (GOV.UK Frontend's js-enabled snippet) is allowed by its hash only.
    assert "script-src 'self' 'sha256-" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-store"
    assert '<script type="module" src="/static/init.mjs">' in r.text


async def test_gov_uk_frontend_is_served_from_npm(visitor: Visitor) -> None:
    css = await visitor.get("/frontend/govuk-frontend.min.css")
    assert css.status_code == 200 and "govuk" in css.text
    js = await visitor.get("/frontend/govuk-frontend.min.js")
    assert js.status_code == 200 and "initAll" in js.text
    assert (await visitor.get("/assets/images/favicon.svg")).status_code == 200
    assert (await visitor.get("/static/init.mjs")).status_code == 200


@pytest.mark.parametrize("path", ["/account", "/account/access-log", "/provider", "/review"])
async def test_signed_out_visitors_are_sent_to_sign_in_and_back(
    visitor: Visitor, path: str
) -> None:
    r = await visitor.get(path)
    assert r.status_code == 303
    assert r.headers["location"] == f"/sign-in?next={path.replace('/', '%2F')}"


@pytest.mark.parametrize(
    ("asked", "landed"),
    [
        ("/account/access-log", "/account/access-log"),
        ("//evil.example/", "/account"),
        ("https://evil.example/", "/account"),
        ("/\\evil.example", "/account"),
        ("/\t/evil.example", "/account"),
        ("/\n/evil.example", "/account"),
        ("", "/account"),
    ],
)
async def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(
    demo: None, visitor: Visitor, asked: str, landed: str
) -> None:
    token = await visitor.token("/sign-in")
    r = await visitor.client.post(
        "/sign-in",
        params={"next": asked},
        data={
            "email": "joan.pritchard@inbox.example",
            "password": "demo-citizen-2026",
            "csrf_token": token,
        },
    )
    assert r.status_code == 303 and r.headers["location"] == landed


async def test_session_cookie_is_httponly_and_lax(demo: None, visitor: Visitor) -> None:
    r = await visitor.submit(
        "/sign-in",
        "/sign-in",
        {"email": "joan.pritchard@inbox.example", "password": "demo-citizen-2026"},
    )
    assert r.status_code == 303
    cookie = next(
        v for k, v in r.headers.multi_items() if k == "set-cookie" and "govstore_session" in v
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # GOVSTORE_BASE_URL is http in tests
    assert "gss_" in cookie


async def test_cookies_are_secure_behind_https(demo: None, make_app, settings) -> None:  # type: ignore[no-untyped-def]
    from testkit import client_for

    app = await make_app(base_url="https://govstore.example")
    async with client_for(app) as client:
        visitor = Visitor(client)
        r = await visitor.get("/sign-in")
        assert "Secure" in r.headers["set-cookie"]


async def test_a_form_without_its_csrf_token_is_refused(
    demo: None, make_visitor: MakeVisitor
) -> None:
    joan = await make_visitor("citizen")
    for data in ({"confirm": "yes"}, {"csrf_token": "forged"}, {"csrf_token": ""}):
        r = await joan.client.post("/sign-out", data=data)
        assert r.status_code == 403 and "Your form has expired" in r.text
    # Still signed in: nothing happened.
    assert (await joan.get("/account")).status_code == 200
    # A token from another session does not work either.
    sam = await make_visitor("other_citizen")
    r = await joan.client.post("/sign-out", data={"csrf_token": await sam.token("/account")})
    assert r.status_code == 403


async def test_sign_in_form_is_protected_before_sign_in_too(visitor: Visitor) -> None:
    r = await visitor.client.post(
        "/sign-in", data={"email": "a@example.com", "password": "x", "csrf_token": "nope"}
    )
    assert r.status_code == 403


async def test_forms_accept_only_urlencoded_bodies_of_sensible_size(
    demo: None, make_visitor: MakeVisitor
) -> None:
    joan = await make_visitor("citizen")
    token = await joan.token("/account")
    r = await joan.client.post(
        "/sign-out", json={"csrf_token": token}, headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    r = await joan.client.post("/sign-out", data={"csrf_token": token, "x": "y" * 70_000})
    assert r.status_code == 400


async def test_sign_out_ends_the_session_everywhere(demo: None, make_visitor: MakeVisitor) -> None:
    joan = await make_visitor("citizen")
    cookie = joan.client.cookies["govstore_session"]
    r = await joan.submit("/account", "/sign-out", {})
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert (await joan.get("/account")).status_code == 303
    # The same token is revoked for the API too.
    api = await joan.client.get("/v1/account", headers={"Authorization": f"Bearer {cookie}"})
    assert api.status_code == 401


async def test_unknown_pages_are_problem_documents_not_pages(visitor: Visitor) -> None:
    r = await visitor.get("/no-such-page")
    assert r.status_code == 404
