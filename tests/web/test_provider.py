"""Provider pages: members of the organisation only; anyone else gets 404."""

from __future__ import annotations

import re

from tests.web.conftest import MakeVisitor


async def test_release_status_after_changes_requested(
    demo: None, make_visitor: MakeVisitor
) -> None:
    tomasz = await make_visitor("fenmoor")
    home = (await tomasz.get("/provider")).text
    assert "Fenmoor District Council" in home and "Changes requested" in home
    service_id = re.search(r'/provider/services/(svc_\w+)">Fenmoor Housing Register', home).group(1)  # type: ignore[union-attr]
    service_page = (await tomasz.get(f"/provider/services/{service_id}")).text
    release_id = re.search(r"/releases/(rel_\w+)", service_page).group(1)  # type: ignore[union-attr]
    r = await tomasz.get(f"/provider/services/{service_id}/releases/{release_id}")
    assert r.status_code == 200
    assert "Changes were requested" in r.text
    assert "Manifest field" in r.text and "How to fix it" in r.text and "<code>/" in r.text
    assert "History" in r.text

    # Another provider, a citizen and a reviewer outside the organisation: not found / refused.
    ada = await make_visitor("provider")
    assert (await ada.get(f"/provider/services/{service_id}")).status_code == 404
    assert (
        await ada.get(f"/provider/services/{service_id}/releases/{release_id}")
    ).status_code == 404
    joan = await make_visitor("citizen")
    assert (await joan.get(f"/provider/services/{service_id}")).status_code == 403


async def test_oauth_client_details_for_an_approved_service(
    demo: None, make_visitor: MakeVisitor
) -> None:
    ada = await make_visitor("provider")
    home = (await ada.get("/provider")).text
    service_id = re.search(r"/provider/services/(svc_\w+)", home).group(1)  # type: ignore[union-attr]
    r = await ada.get(f"/provider/services/{service_id}")
    assert r.status_code == 200
    assert "OAuth client" in r.text and "<code>cli_" in r.text
    assert "https://app.kestrelhealth.example/auth/govstore/callback" in r.text
    assert "Clinically" in r.text or "clinically" in r.text
    # A release of this service under another service's id is not found.
    tomasz = await make_visitor("fenmoor")
    other = re.search(r"/provider/services/(svc_\w+)", (await tomasz.get("/provider")).text)
    release_id = re.search(r"/releases/(rel_\w+)", r.text).group(1)  # type: ignore[union-attr]
    assert other is not None
    assert (
        await ada.get(f"/provider/services/{other.group(1)}/releases/{release_id}")
    ).status_code == 404
