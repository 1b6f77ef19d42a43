"""Three journeys in a real browser (Debian's Chromium through Playwright) against a real server
loaded with the demo data: axe-core checks every page visited (any WCAG 2.2 A/AA violation fails),
any Content-Security-Policy violation fails, and every page is saved as a screenshot under
var/test-artifacts/screenshots."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from live_server import running_server
from playwright.async_api import Browser, Page, Route, async_playwright

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = Path("/usr/bin/chromium")
# DEVELOPERS.md's flags: headless, no sandbox (containers), nothing phoning home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "var" / "test-artifacts" / "screenshots"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

CITIZEN = ("joan.pritchard@inbox.example", "demo-citizen-2026")
REVIEWERS = [
    ("amara.okafor@govstore.example", "demo-reviewer-2026"),
    ("fiona.macleod@govstore.example", "demo-reviewer-2026"),
]
PROVIDER = ("ada.mensah@kestrelhealth.example", "demo-provider-2026")
CHANGES_REQUESTED_PROVIDER = ("tomasz.nowak@fenmoor.example", "demo-provider-2026")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`make run` in miniature: migrate, load the demo, serve on a free loopback port.

    Always its own SQLite database: the journeys change the demo data as they go.
    """
    with running_server(
        None, tmp_path_factory.mktemp("browser"), demo=True, own_database=True
    ) as running:
        yield running.base_url
    server_log = "\n".join(log.read_text() for log in running.logs)
    assert "Traceback" not in server_log, server_log


@pytest.fixture(scope="module")
def axe_source() -> str:
    """Never skipped: a machine without the browser or axe-core fails, saying how to fix it."""
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: `make install` installs Debian's chromium package")
    if not AXE.exists():
        pytest.fail("axe-core is missing: `make install` runs npm ci")
    return AXE.read_text()


@dataclass
class Kit:
    browser: Browser
    server: str
    axe: str


@pytest.fixture
async def kit(axe_source: str, server: str) -> AsyncIterator[Kit]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield Kit(launched, server, axe_source)
        finally:
            await launched.close()


@dataclass
class Journey:
    """One browser tab on a journey: checks and photographs every page it lands on."""

    name: str
    page: Page
    base: str
    axe: str
    csp_violations: list[str] = field(default_factory=list)
    step: int = 0

    async def check(self, label: str) -> None:
        """axe-core on the page as it is now, plus a screenshot; any violation fails."""
        self.step += 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(
            path=str(SHOTS / f"{self.name}-{self.step:02d}-{label}.png"), full_page=True
        )
        # Evaluated through the DevTools protocol: the page's CSP (no inline script) stays on.
        if not await self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            await self.page.evaluate(self.axe + "\n;undefined")
        result = await self.page.evaluate(
            "async (tags) => { const r = await axe.run(document, "
            "{runOnly: {type: 'tag', values: tags}}); "
            "return r.violations.map(v => ({id: v.id, help: v.help, "
            "nodes: v.nodes.map(n => n.target.join(' '))})); }",
            WCAG,
        )
        assert result == [], f"{label} ({self.page.url}): {json.dumps(result, indent=2)}"
        assert self.csp_violations == [], self.csp_violations

    async def goto(self, path: str, label: str) -> None:
        response = await self.page.goto(self.base + path)
        assert response is not None and response.status < 400, (path, response)
        await self.check(label)

    async def sign_in(self, email: str, password: str) -> None:
        await self.page.get_by_label("Email address").fill(email)
        await self.page.get_by_label("Password", exact=True).fill(password)
        await self.page.get_by_role("button", name="Sign in").click()


async def journey(kit: Kit, name: str) -> Journey:
    context = await kit.browser.new_context()
    page = await context.new_page()
    trip = Journey(name, page, kit.server, kit.axe)

    def on_console(message: object) -> None:
        text = getattr(message, "text", "")
        if "Content Security Policy" in text:
            trip.csp_violations.append(text)

    page.on("console", on_console)
    return trip


def _oauth_client(server: str, slug: str) -> tuple[str, str, str]:
    """What the service's own site would put in its sign-in link: client id, redirect, scopes."""
    with httpx.Client(base_url=server) as api:
        login = api.post("/v1/auth/login", json={"email": PROVIDER[0], "password": PROVIDER[1]})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        orgs = api.get("/v1/organisations", headers=headers).json()["items"]
        services = api.get(f"/v1/organisations/{orgs[0]['id']}/services", headers=headers)
        service = next(s for s in services.json()["items"] if s["slug"] == slug)
        client = api.get(f"/v1/services/{service['id']}/oauth-client", headers=headers).json()
    return client["client_id"], client["redirect_uris"][0], " ".join(client["scopes"])


async def test_citizen_finds_a_service_consents_and_revokes(kit: Kit) -> None:
    trip = await journey(kit, "citizen")
    page = trip.page
    await trip.goto("/register", "register")
    await page.get_by_role("button", name="Create account").click()
    await trip.check("register-errors")
    assert await page.locator(".govuk-error-summary").is_visible()
    await trip.goto("/", "catalogue")
    await page.get_by_label("Search").fill("medicines")
    await page.get_by_role("button", name="Search").click()
    await trip.check("search-results")
    await page.get_by_role("link", name="Kestrel Medicines").click()
    await page.wait_for_url(re.compile(r"/services/kestrel-medicines$"))
    await trip.check("service-page")
    assert await page.get_by_role("heading", name="What it may see of your data").is_visible()

    # The service's own site sends the citizen to GovStore to sign in and consent.
    client_id, redirect_uri, scopes = _oauth_client(kit.server, "kestrel-medicines")
    landed: list[str] = []

    async def service_site(route: Route) -> None:
        landed.append(route.request.url)
        await route.fulfill(status=200, content_type="text/plain", body="the service")

    await page.route(re.compile(r"^https://app\.kestrelhealth\.example/.*"), service_site)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scopes,
            "state": "journey",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        }
    )
    await page.goto(f"{kit.server}/oauth/authorize?{query}")
    await trip.check("consent-needs-sign-in")
    await page.locator("main").get_by_role("link", name="Sign in").click()
    await page.wait_for_url(re.compile(r"/sign-in\?next="))
    await trip.check("sign-in")
    await trip.sign_in("joan.pritchard@inbox.example", "not the password")
    await trip.check("sign-in-error")
    assert await page.locator(".govuk-error-summary").is_visible()
    assert await page.get_by_label("Email address").input_value() == CITIZEN[0]
    await trip.sign_in(*CITIZEN)
    await page.wait_for_url(re.compile(r"/oauth/authorize\?"))
    await trip.check("consent-screen")
    assert await page.get_by_role(
        "heading", name="Kestrel Medicines wants to use your data"
    ).is_visible()
    await page.get_by_role("button", name="Allow").click()
    await page.wait_for_url(re.compile(r"^https://app\.kestrelhealth\.example/"))
    assert "code=" in landed[-1] and "state=journey" in landed[-1]

    await trip.goto("/account", "dashboard")
    card = page.locator(".govuk-summary-card", has_text="Kestrel Medicines").first
    assert await card.is_visible()
    await card.get_by_role("link", name=re.compile("Stop sharing")).click()
    await trip.check("revoke-confirm")
    await page.get_by_role("button", name="Yes, stop sharing").click()
    await page.wait_for_url(re.compile(r"/account\?done=revoked"))
    await trip.check("dashboard-after-revoke")
    assert await page.get_by_text("Consent withdrawn").is_visible()
    await trip.goto("/account/access-log", "access-log")
    await trip.goto("/services/riverside-benefits-check", "service-with-ratings")
    await page.get_by_role("link", name="Rate this service").click()
    await trip.check("rate")
    await page.get_by_label("4 stars").check()
    await page.get_by_role("button", name="Save rating").click()
    await page.wait_for_url(re.compile(r"done=rated"))
    await trip.check("rated")
    await trip.goto("/account/export", "export")
    await trip.goto("/services/kestrel-medicines/complain", "complaint-form")
    await page.get_by_role("button", name="Send complaint").click()
    await trip.check("complaint-errors")
    await trip.goto("/account/delete", "delete-account")
    await trip.goto("/account/deleted", "account-deleted")
    # Error pages are pages too.
    missing = await page.goto(f"{kit.server}/services/no-such-service")
    assert missing is not None and missing.status == 404
    await trip.check("not-found")
    refused = await page.goto(f"{kit.server}/review")
    assert refused is not None and refused.status == 403
    await trip.check("forbidden")


async def test_reviewer_claims_decides_and_approves(kit: Kit) -> None:
    trip = await journey(kit, "reviewer")
    page = trip.page
    await trip.goto("/review", "queue-signed-out")  # lands on sign-in
    await trip.sign_in(*REVIEWERS[0])
    await page.wait_for_url(re.compile(r"/review$"))
    await trip.check("queue")
    await page.locator("table a.govuk-link").first.click()
    await page.wait_for_url(re.compile(r"/review/releases/rel_"))
    release_url = page.url
    await trip.check("release")
    await page.get_by_role("button", name="Claim this release").click()
    await page.wait_for_url(re.compile(r"done=claimed"))
    await trip.check("claimed")
    # Submitting without a decision keeps every finding and shows the error summary.
    await page.get_by_role("button", name="Record decision").click()
    await trip.check("decision-errors")
    assert await page.locator(".govuk-error-summary").is_visible()
    await page.get_by_label("Approve").check()
    await page.get_by_role("button", name="Record decision").click()
    await page.wait_for_url(re.compile(r"done=decided"))
    await trip.check("decided")
    if await page.get_by_text("Awaiting second approval").first.is_visible():
        second = await journey(kit, "reviewer-second")
        await second.page.goto(release_url)
        await second.sign_in(*REVIEWERS[1])
        await second.page.wait_for_url(re.compile(r"/review/releases/rel_"))
        await second.check("second-approval")
        await second.page.get_by_label("Yes, approve").check()
        await second.page.get_by_role("button", name="Record second approval").click()
        await second.page.wait_for_url(re.compile(r"done=second"))
        await second.check("second-approved")
        await page.reload()
    assert await page.get_by_text("Published").first.is_visible()


async def test_provider_sees_what_to_fix_after_changes_requested(
    kit: Kit,
) -> None:
    trip = await journey(kit, "provider")
    page = trip.page
    await trip.goto("/sign-in", "sign-in")
    await trip.sign_in(*CHANGES_REQUESTED_PROVIDER)
    await trip.goto("/provider", "services")
    await page.get_by_role("link", name="Fenmoor Housing Register").click()
    await trip.check("service")
    await page.get_by_role("link", name="Release 1").click()
    await trip.check("release-status")
    assert await page.get_by_text("Changes were requested").is_visible()
    assert await page.get_by_text("How to fix it").first.is_visible()
    # A provider of a published service: its kitemarks, scopes and OAuth client.
    await page.locator("header").get_by_role("button", name="Sign out").click()
    await trip.goto("/sign-in", "sign-in-again")
    await trip.sign_in(*PROVIDER)
    await trip.goto("/provider", "published-services")
    await page.get_by_role("link", name="Kestrel Medicines").click()
    await trip.check("published-service")
    assert await page.get_by_text("Client ID").is_visible()
