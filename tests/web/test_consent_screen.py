"""The OAuth consent screen in the web layout: the web session cookie signs the citizen in, and
then its form needs the session's CSRF token (a bearer token needs none: browsers never send one)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.web.conftest import MakeVisitor, Visitor

CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


async def _authorize_url(ada: Visitor) -> str:
    home = (await ada.get("/provider")).text
    service_id = re.search(r"/provider/services/(svc_\w+)", home).group(1)  # type: ignore[union-attr]
    page = (await ada.get(f"/provider/services/{service_id}")).text
    client_id = re.search(r"<code>(cli_\w+)</code>", page).group(1)  # type: ignore[union-attr]
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": "https://app.kestrelhealth.example/auth/govstore/callback",
        "scope": "health.summary.read prescriptions.exemption.verify",
        "state": "s1",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    return "/oauth/authorize?" + urlencode(query)


async def test_signed_out_browser_is_offered_sign_in_and_brought_back(
    demo: None, make_visitor: MakeVisitor
) -> None:
    url = await _authorize_url(await make_visitor("provider"))
    visitor = await make_visitor()
    r = await visitor.get(url)
    assert r.status_code == 401 and "govuk-button" in r.text
    sign_in = re.search(r'href="(/sign-in\?next=[^"]+)"', r.text).group(1)  # type: ignore[union-attr]
    page = sign_in.replace("&amp;", "&")
    r = await visitor.submit(
        page, page, {"email": "joan.pritchard@inbox.example", "password": "demo-citizen-2026"}
    )
    assert r.status_code == 303 and r.headers["location"] == url


async def test_cookie_session_consents_with_the_csrf_token(
    demo: None, make_visitor: MakeVisitor
) -> None:
    url = await _authorize_url(await make_visitor("provider"))
    joan = await make_visitor("citizen")
    screen = await joan.get(url)
    assert screen.status_code == 200
    assert "Kestrel Medicines wants to use your data" in screen.text
    assert "govuk-summary-card" in screen.text and "govuk-checkboxes" in screen.text
    assert (
        "form-action 'self' https://app.kestrelhealth.example"
        in screen.headers["content-security-policy"]
    )
    choice = {"confirm": "allow", "scope": ["health.summary.read"], "expires_in_days": "30"}
    # Without the token (a cross-site form riding on the cookie): refused, nothing granted.
    r = await joan.client.post(url, data=choice)
    assert r.status_code == 403
    r = await joan.client.post(url, data={**choice, "csrf_token": "forged"})
    assert r.status_code == 403
    assert (
        "Kestrel Medicines"
        not in (await joan.get("/account")).text.split("Sharing now")[1].split("No longer")[0]
    )
    # A choice the service rules out: the error summary, the citizen's choices kept.
    r = await joan.submit(url, url, {**choice, "scope": [], "expires_in_days": "180"})
    assert r.status_code == 400 and "govuk-error-summary" in r.text and 'href="#scope-1"' in r.text
    assert re.search(r'value="180" checked', r.text)
    r = await joan.submit(url, url, choice)
    assert r.status_code == 302
    location = r.headers["location"]
    assert location.startswith("https://app.kestrelhealth.example/auth/govstore/callback?")
    assert parse_qs(urlsplit(location).query)["state"] == ["s1"]
    dashboard = (await joan.get("/account")).text
    assert "Kestrel Medicines" in dashboard.split("Sharing now")[1].split("No longer")[0]


async def test_cancel_returns_access_denied(demo: None, make_visitor: MakeVisitor) -> None:
    url = await _authorize_url(await make_visitor("provider"))
    joan = await make_visitor("citizen")
    r = await joan.submit(url, url, {"confirm": "deny"})
    assert r.status_code == 302 and "error=access_denied" in r.headers["location"]


async def test_a_provider_cannot_consent(demo: None, make_visitor: MakeVisitor) -> None:
    ada = await make_visitor("provider")
    r = await ada.get(await _authorize_url(ada))
    assert r.status_code == 403 and "Only a citizen account can give consent" in r.text
