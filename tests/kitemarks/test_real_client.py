"""A service drives the flow with authlib's own OAuth client; the example department API
introspects its token; the citizen revokes and the department's next answer is 401."""

from __future__ import annotations

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from sqlmodel import select
from starlette.applications import Starlette
from testkit import Actor

from examples.department_api.app import create_app as create_department_api
from kitemarks.models import AccessEvent
from tests.kitemarks.conftest import REDIRECT, DataApi, Publish

BASE = "http://127.0.0.1:8000"


# authlib 1.9 would rather drive its client with the httpx2 fork; httpx itself still works.
@pytest.mark.filterwarnings("ignore:The httpx module is deprecated")
async def test_authlib_client_and_the_example_data_api(
    app: Starlette,
    client: httpx.AsyncClient,
    publish: Publish,
    citizen: Actor,
    hmrc: DataApi,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from authlib.integrations.httpx_client import AsyncOAuth2Client

    # authlib's client refuses plain http; the test server is loopback, where that is allowed.
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    svc = await publish()
    metadata = (await client.get("/.well-known/oauth-authorization-server")).json()
    transport = httpx.ASGITransport(app=app)
    async with AsyncOAuth2Client(
        client_id=svc.client_id,
        client_secret=svc.client_secret,
        scope="income.verify",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        transport=transport,
        base_url=BASE,
    ) as service:
        verifier = "v" * 20 + "-a-pkce-code-verifier-of-enough-length"
        url, state = service.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier
        )
        assert f"code_challenge={create_s256_code_challenge(verifier)}" in url
        # The citizen's browser: see the consent screen, allow.
        path = url.removeprefix(BASE)
        assert (await client.get(path, headers=citizen.headers)).status_code == 200
        answer = await client.post(
            path,
            data={"confirm": "allow", "scope": ["income.verify"], "expires_in_days": "30"},
            headers=citizen.headers,
        )
        assert answer.status_code == 302
        token = await service.fetch_token(
            metadata["token_endpoint"],
            authorization_response=answer.headers["location"],
            code_verifier=verifier,
        )
    assert token["scope"] == "income.verify" and token["token_type"] == "Bearer"
    assert state in answer.headers["location"]

    department = create_department_api(
        govstore_url=BASE,
        client_id=hmrc.client_id,
        client_secret=hmrc.client_secret,
        incomes={citizen.id: 18_000},
        transport=transport,
    )
    async with (
        department.router.lifespan_context(department),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=department), base_url="http://dept.test"
        ) as dept,
    ):
        headers = {
            "Authorization": f"Bearer {token['access_token']}",
            "Case-Reference": "warm home grant WHG-1",
        }
        r = await dept.get("/v1/income-below", params={"threshold": 20_000}, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json() == {"below_threshold": True}  # a yes or no, never the income

        async with app.state.platform.db.session(write=False) as session:
            [event] = (await session.exec(select(AccessEvent))).all()
        assert (event.account_id, event.scope, event.tier, event.purpose) == (
            citizen.id,
            "income.verify",
            "status",
            "eligibility_check",
        )
        assert event.case_reference == "warm home grant WHG-1"
        log = (await client.get("/v1/me/consents", headers=citizen.headers)).json()["items"]
        assert log[0]["last_access_at"] is not None

        r = await client.delete(f"/v1/me/consents/{log[0]['id']}", headers=citizen.headers)
        assert r.status_code == 200
        r = await dept.get("/v1/income-below", params={"threshold": 20_000}, headers=headers)
        assert r.status_code == 401
        assert "invalid_token" in r.headers["www-authenticate"]
