"""OAuth: introspection and the token endpoint (issue #4: introspection at least 30% of /healthz,
with 100,000 active tokens and 10,000 consents; the token endpoint at least 25%).

Builds on the foundation scenario's data, then publishes a few of its Warm Home Grant Checker
services (their releases `published`, an active `income.verify` scope grant and an OAuth client
with a secret each), and adds `size` citizens, each with an active consent to one of those
services and 10 active access tokens from it (100,000 at the default size), one registered
HMRC data API, and unused authorization codes for the code exchange, each with its own PKCE
verifier. Tokens, codes and consents outlive any run (a day, a day, a year).

Introspection goes through every loaded token in a shuffled order, so no cache (the database's
or an in-process one) sees the same token twice unless the run outlasts them (the harness says
so); each active answer records an access event, committed before the answer leaves. The code exchange sends every code once:
codes are single use, so a repeated one would answer 400 and show in the errors column.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from bench.common import HEALTHZ, Target, event_row, insert_rows, password_hash, spread, table
from bench.scenarios import foundation
from kitemarks.models import ConsentStatus, GrantStatus
from kitemarks.oauth.server import ACCESS_PREFIX, REFRESH_PREFIX
from marketplace.accounts.models import Role
from marketplace.auth import hash_token, new_token
from marketplace.db import utcnow
from marketplace.demo.loader import demo_data
from marketplace.guidelines.models import Sensitivity, Tier
from marketplace.ids import new_id
from marketplace.releases.lifecycle import Actor, ReleaseStatus

SCOPE = "income.verify"
DATA_OWNER = "HM Revenue & Customs"
TEMPLATE = "warm-home-grant-checker"  # the fixture whose manifest asks for income.verify
CLIENTS = 10  # published services with an OAuth client; consents are spread over them
TOKENS_PER_CONSENT = 10
# Authorization codes for the exchange: enough for the harness's longest run (60 s measured,
# 10 s of warm-up, the probe) at 2,000 exchanges a second, several times what the endpoint
# managed when this was written; if they run out, the harness says so and the reused codes
# answer 400.
CODES = 2_000 * (60 + 10 + 1)
PASSWORD = "bench-citizen-2026"
CLIENT_SECRET_PREFIX = "gscs_"  # as kitemarks.views issues them
DATA_API_SECRET_PREFIX = "gsd_"  # as marketplace.guidelines.services issues them


@dataclass(frozen=True)
class Context:
    """The credentials the targets send, and a request body per token and per code."""

    data_api_client_id: str
    data_api_secret: str
    client_id: str
    client_secret: str
    introspections: list[str]
    exchanges: list[str]
    rows: dict[str, int]


def basic(client_id: str, secret: str) -> dict[str, str]:
    """HTTP Basic client authentication (RFC 6749 §2.3.1; our ids and secrets need no escaping)."""
    pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def s256(verifier: str) -> str:
    """The PKCE S256 code challenge of a verifier (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _scope_row(now: Any) -> dict[str, Any]:
    entry = next((s for s in demo_data()["scopes"] if s["name"] == SCOPE), None)
    return {
        "name": SCOPE,
        "title": entry["title"] if entry else "Check your income is below a limit",
        "description": entry["description"] if entry else "A yes or no answer about income.",
        "tier": Tier.STATUS,
        "sensitivity": Sensitivity.LOW,
        "data_owner": DATA_OWNER,
        "created_at": now,
    }


def _uses(manifest: dict[str, Any], scope: dict[str, Any]) -> list[dict[str, Any]]:
    """What the consent screen showed for income.verify (as kitemarks.consents.data_uses builds it)."""
    declared = next(u for u in manifest["data_uses"] if u["scope"] == SCOPE)
    return [
        {
            "scope": SCOPE,
            "title": scope["title"],
            "description": scope["description"],
            "data_owner": scope["data_owner"],
            "tier": "status",
            "tier_meaning": "a yes or no answer only, never the data itself",
            "purpose": declared.get("purpose", "service_delivery"),
            "purpose_description": declared.get("purpose_description", ""),
            "lawful_basis": declared.get("lawful_basis", "consent"),
            "retention_days": declared.get("retention_days"),
            "shared_with_third_parties": bool(declared.get("shared_with_third_parties", False)),
            "optional": bool(declared.get("optional", False)),
        }
    ]


async def load(database_url: str, size: int) -> Context:
    base = await foundation.load(database_url, size)
    size = max(size, 1)
    now = utcnow()
    rng = random.Random(4)
    engine = create_async_engine(database_url)
    written: dict[str, int] = {}
    try:
        async with engine.begin() as conn:
            # The scope (the foundation loads it from the demo set; added here if it did not).
            scopes_table = table("scopes")
            found = (
                (await conn.execute(sa.select(scopes_table).where(scopes_table.c.name == SCOPE)))
                .mappings()
                .first()
            )
            scope = dict(found) if found else _scope_row(now)
            if found is None:
                written["scopes"] = await insert_rows(conn, "scopes", [scope])

            # Publish the first few Warm Home Grant Checker services.
            services, releases = table("services"), table("releases")
            chosen = (
                await conn.execute(
                    sa.select(
                        services.c.id,
                        services.c.organisation_id,
                        services.c.created_by,
                        releases.c.id.label("release_id"),
                        releases.c.manifest,
                    )
                    .join(releases, releases.c.service_id == services.c.id)
                    .where(services.c.slug.like(f"{TEMPLATE}-%"))
                    .order_by(services.c.created_at)
                    .limit(CLIENTS)
                )
            ).all()
            if not chosen:
                raise RuntimeError(
                    f"no {TEMPLATE} service in the foundation data; use --size 5 or more"
                )
            published_at = now - timedelta(days=30)
            await conn.execute(
                sa.update(releases)
                .where(releases.c.id.in_([c.release_id for c in chosen]))
                .values(status=ReleaseStatus.PUBLISHED, status_changed_at=published_at)
            )
            events: list[dict[str, Any]] = []
            scope_grants: list[dict[str, Any]] = []
            clients: list[dict[str, Any]] = []
            secrets_by_client: dict[str, str] = {}
            for c in chosen:
                events.append(
                    event_row(
                        "release:status:changed",
                        subject_type="release",
                        subject_id=c.release_id,
                        actor_id=None,
                        body={
                            "service_id": c.id,
                            "from": ReleaseStatus.APPROVED.value,
                            "to": ReleaseStatus.PUBLISHED.value,
                            "action": "publish",
                            "actor": Actor.SYSTEM.value,
                        },
                        at=published_at,
                    )
                )
                grant_id = new_id("sg")
                scope_grants.append(
                    {
                        "id": grant_id,
                        "service_id": c.id,
                        "release_id": c.release_id,
                        "scope": SCOPE,
                        "tier": Tier.STATUS,
                        "status": GrantStatus.ACTIVE,
                        "granted_by": None,
                        "granted_at": published_at,
                        "status_changed_at": published_at,
                        "status_reason": None,
                    }
                )
                events.append(
                    event_row(
                        "scope:grant:granted",
                        subject_type="scope_grant",
                        subject_id=grant_id,
                        actor_id=None,
                        body={
                            "service_id": c.id,
                            "release_id": c.release_id,
                            "scope": SCOPE,
                            "tier": "status",
                        },
                        at=published_at,
                    )
                )
                client_id = new_id("cli")
                secret = new_token(CLIENT_SECRET_PREFIX)
                secrets_by_client[client_id] = secret
                redirect_uris = [str(u) for u in c.manifest.get("redirect_uris", [])]
                clients.append(
                    {
                        "client_id": client_id,
                        "service_id": c.id,
                        "release_id": c.release_id,
                        "secret_hash": hash_token(secret),
                        "redirect_uris": redirect_uris,
                        "scopes": [SCOPE],
                        "created_at": published_at,
                        "secret_rotated_at": published_at,
                    }
                )
                events.append(
                    event_row(
                        "oauth:client:created",
                        subject_type="oauth_client",
                        subject_id=client_id,
                        actor_id=None,
                        body={
                            "service_id": c.id,
                            "release_id": c.release_id,
                            "redirect_uris": redirect_uris,
                            "scopes": [SCOPE],
                        },
                        at=published_at,
                    )
                )
            uses = _uses(chosen[0].manifest, scope)

            # Citizens, one consent each to one of the services, and its tokens.
            shared_hash = password_hash(PASSWORD)
            granted = spread(size, days=30, now=now)
            accounts: list[dict[str, Any]] = []
            consents: list[dict[str, Any]] = []
            tokens: list[dict[str, Any]] = []
            introspections: list[str] = []
            for i in range(size):
                at = granted[i]
                account_id, consent_id = new_id("acc"), new_id("cns")
                client = clients[i % len(clients)]
                accounts.append(
                    {
                        "id": account_id,
                        "email": f"citizen{i}@bench-citizen.example",
                        "password_hash": shared_hash,
                        "display_name": f"Bench Citizen {i}",
                        "roles": [Role.CITIZEN.value],
                        "created_at": at,
                        "updated_at": at,
                    }
                )
                consents.append(
                    {
                        "id": consent_id,
                        "account_id": account_id,
                        "service_id": client["service_id"],
                        "release_id": client["release_id"],
                        "client_id": client["client_id"],
                        "scopes": [SCOPE],
                        "uses": uses,
                        "status": ConsentStatus.ACTIVE,
                        "granted_at": at,
                        "expires_at": at + timedelta(days=365),
                        "ended_at": None,
                        "end_reason": None,
                        "last_access_at": None,
                    }
                )
                events.append(
                    event_row(
                        "consent:consent:granted",
                        subject_type="consent",
                        subject_id=consent_id,
                        actor_id=account_id,
                        body={
                            "service_id": client["service_id"],
                            "scopes": [SCOPE],
                            "expires_at": (at + timedelta(days=365)).isoformat(),
                        },
                        at=at,
                    )
                )
                # One family of refresh rotations: every access token is live (a day, longer
                # than any run), only the newest refresh token is not yet rotated.
                family_id = new_id("fam")
                for k in range(TOKENS_PER_CONSENT):
                    access = new_token(ACCESS_PREFIX)
                    issued_at = now - timedelta(minutes=TOKENS_PER_CONSENT - k)
                    newest = k == TOKENS_PER_CONSENT - 1
                    tokens.append(
                        {
                            "id": new_id("tok"),
                            "access_hash": hash_token(access),
                            "refresh_hash": hash_token(new_token(REFRESH_PREFIX)),
                            "family_id": family_id,
                            "client_id": client["client_id"],
                            "service_id": client["service_id"],
                            "consent_id": consent_id,
                            "account_id": account_id,
                            "scopes": [SCOPE],
                            "issued_at": issued_at,
                            "expires_at": now + timedelta(days=1),
                            "refresh_expires_at": now + timedelta(days=30),
                            "rotated_at": None if newest else issued_at + timedelta(minutes=1),
                            "revoked_at": None,
                        }
                    )
                    introspections.append(urlencode({"token": access, "case_reference": "bench"}))
            rng.shuffle(introspections)

            # The data API HMRC runs to answer income.verify.
            data_api_client_id = new_id("dapic")
            data_api_secret = DATA_API_SECRET_PREFIX + secrets.token_urlsafe(32)
            data_apis = [
                {
                    "id": new_id("dapi"),
                    "name": "HMRC Income Verification API",
                    "data_owner": DATA_OWNER,
                    "client_id": data_api_client_id,
                    "client_secret_hash": hash_token(data_api_secret),
                    "created_by": None,
                    "created_at": now - timedelta(days=60),
                    "disabled_at": None,
                }
            ]

            # Unused authorization codes for the first client, as its citizens' consent screens
            # issued them (each bound to one of those consents and its own PKCE verifier).
            client = clients[0]
            redirect_uri = client["redirect_uris"][0]
            own = [c for c in consents if c["client_id"] == client["client_id"]]
            codes: list[dict[str, Any]] = []
            exchanges: list[str] = []
            for n in range(CODES):
                consent = own[n % len(own)]
                code, verifier = secrets.token_urlsafe(36), secrets.token_urlsafe(48)
                codes.append(
                    {
                        "code_hash": hash_token(code),
                        "client_id": client["client_id"],
                        "consent_id": consent["id"],
                        "account_id": consent["account_id"],
                        "redirect_uri": redirect_uri,
                        "scopes": [SCOPE],
                        "code_challenge": s256(verifier),
                        "code_challenge_method": "S256",
                        "created_at": now,
                        # Far beyond any run (the server's own codes last a minute).
                        "expires_at": now + timedelta(days=1),
                        "used_at": None,
                        # The family its tokens will join (the server gives one to every code).
                        "family_id": new_id("fam"),
                    }
                )
                exchanges.append(
                    urlencode(
                        {
                            "grant_type": "authorization_code",
                            "code": code,
                            "redirect_uri": redirect_uri,
                            "code_verifier": verifier,
                        }
                    )
                )

            for table_name, rows in [
                ("scope_grants", scope_grants),
                ("oauth_clients", clients),
                ("accounts", accounts),
                ("consents", consents),
                ("oauth_tokens", tokens),
                ("data_apis", data_apis),
                ("oauth_codes", codes),
                ("audit_events", events),
            ]:
                written[table_name] = await insert_rows(conn, table_name, rows)
    finally:
        await engine.dispose()
    loaded = dict(base.rows)
    for name, count in written.items():
        loaded[name] = loaded.get(name, 0) + count
    loaded["releases published"] = len(chosen)
    return Context(
        data_api_client_id=data_api_client_id,
        data_api_secret=data_api_secret,
        client_id=client["client_id"],
        client_secret=secrets_by_client[client["client_id"]],
        introspections=introspections,
        exchanges=exchanges,
        rows=loaded,
    )


def expect(**fields: Callable[[Any], bool]) -> Callable[[bytes], str | None]:
    """A probe check: the answer is a JSON object whose named fields pass their tests."""

    def check(body: bytes) -> str | None:
        try:
            answer = json.loads(body)
        except ValueError:
            return "not JSON"
        if not isinstance(answer, dict):
            return "not a JSON object"
        wrong = [name for name, test in fields.items() if not test(answer.get(name))]
        return f"unexpected {', '.join(wrong)}" if wrong else None

    return check


def targets(ctx: Context) -> list[Target]:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    data_api = {**basic(ctx.data_api_client_id, ctx.data_api_secret), **form}
    client = {**basic(ctx.client_id, ctx.client_secret), **form}
    issued = expect(
        access_token=lambda v: isinstance(v, str) and v.startswith(ACCESS_PREFIX),
        token_type=lambda v: v == "Bearer",
        scope=lambda v: v == SCOPE,
    )
    return [
        HEALTHZ,
        Target(
            "POST /oauth/introspect (active citizen token)",
            "POST",
            "/oauth/introspect",
            data_api,
            None,
            bodies=ctx.introspections,
            check=expect(
                active=lambda v: v is True,
                scope=lambda v: v == SCOPE,
                sub=lambda v: isinstance(v, str),
                tiers=lambda v: v == {SCOPE: "status"},
            ),
        ),
        Target(
            "POST /oauth/token (client_credentials)",
            "POST",
            "/oauth/token",
            client,
            "grant_type=client_credentials",
            check=issued,
        ),
        Target(
            "POST /oauth/token (authorization_code)",
            "POST",
            "/oauth/token",
            client,
            None,
            bodies=ctx.exchanges,
            check=expect(
                access_token=lambda v: isinstance(v, str) and v.startswith(ACCESS_PREFIX),
                refresh_token=lambda v: isinstance(v, str) and v.startswith(REFRESH_PREFIX),
                token_type=lambda v: v == "Bearer",
                scope=lambda v: v == SCOPE,
            ),
        ),
    ]
