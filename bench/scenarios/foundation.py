"""The foundation: accounts, organisations, services and releases, and the public guideline reads.

`size` services, each with one release whose manifest is one of the valid test fixtures
(renamed per row), spread over size/10 organisations with one provider (the owner) each; the
published guideline version 2026.1 with the demo guidelines, every demo scope and kitemark
scheme, and every scope the fixtures name.

The releases were submitted and then withdrawn by their provider: a state no background job
touches. Submitted releases would be picked up by the server's automated-review recovery sweep
(1,000 at start-up and every five minutes), which would compete with the requests being
measured. Outside the review queue, the provider's release view reads the same rows whatever
the status.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import create_async_engine

from bench.common import (
    HEALTHZ,
    Target,
    bearer,
    event_row,
    insert_rows,
    password_hash,
    rename,
    session_token,
    spread,
)
from marketplace.accounts.models import Role
from marketplace.db import utcnow
from marketplace.demo.loader import demo_data
from marketplace.guidelines.models import Sensitivity, Severity, Tier, VersionStatus
from marketplace.ids import new_id
from marketplace.organisations.models import MemberRole
from marketplace.releases.lifecycle import Actor, ReleaseStatus
from marketplace.releases.manifest import manifest_references, validate_manifest

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "manifests" / "valid"
GUIDELINE_VERSION = "2026.1"
SERVICES_PER_ORGANISATION = 10
PASSWORD = "bench-provider-2026"

# Scopes the fixtures name that the demo set lacks, written in the demo set's style.
EXTRA_SCOPES: list[dict[str, Any]] = [
    {
        "name": "housing.tenancy.verify",
        "title": "Check you are the tenant of a home",
        "description": "Confirms yes or no whether you hold the tenancy of the address the "
        "service names, using your landlord's tenancy records. It never shows your rent or "
        "the terms of your tenancy.",
        "tier": "status",
        "sensitivity": "low",
        "data_owner": "Ministry of Housing, Communities and Local Government",
    },
    {
        "name": "education.enrolment.verify",
        "title": "Check you are enrolled on a course",
        "description": "Confirms yes or no whether you are enrolled at a school, college or "
        "university this academic year, using the learner records. It never shows your course "
        "or your results.",
        "tier": "status",
        "sensitivity": "low",
        "data_owner": "Department for Education",
    },
]


@dataclass(frozen=True)
class Context:
    """What the targets need: one provider's token, and a service and release it can see."""

    token: str
    organisation_id: str
    service_id: str
    release_id: str
    rows: dict[str, int]


def templates() -> list[tuple[str, dict[str, Any]]]:
    """The valid fixture manifests, as (slug stem, manifest), in a stable order."""
    found = [
        (path.stem, json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(FIXTURES.glob("*.json"))
    ]
    if not found:
        raise RuntimeError(f"no manifest fixtures in {FIXTURES}")
    return found


def _check_templates(
    manifests: list[tuple[str, dict[str, Any]]],
    scopes: set[str],
    criteria_by_scheme: dict[str, list[str]],
) -> None:
    """Fail before loading if a fixture would not pass submission against the loaded set."""
    for stem, manifest in manifests:
        problems = [f"{e.pointer} {e.detail}" for e in validate_manifest(manifest)]
        scope_refs, scheme_refs = manifest_references(manifest)
        problems += [f"{p}: no scope {name}" for p, name in scope_refs if name not in scopes]
        problems += [
            f"{p}: no scheme {slug}" for p, slug in scheme_refs if slug not in criteria_by_scheme
        ]
        for kitemark in manifest.get("kitemarks", []):
            allowed = criteria_by_scheme.get(kitemark["scheme"], [])
            problems += [
                f"criterion {e['criterion']} not in {kitemark['scheme']}"
                for e in kitemark.get("evidence", [])
                if e["criterion"] not in allowed
            ]
        if problems:
            raise RuntimeError(f"fixture {stem} does not fit the bench data: {problems}")


async def load(database_url: str, size: int) -> Context:
    data = demo_data()
    now = utcnow()
    manifests = templates()
    size = max(size, 1)
    n_orgs = max(1, size // SERVICES_PER_ORGANISATION)

    # Guideline authority: scopes, kitemark schemes, the published 2026.1 version.
    scope_entries = data["scopes"] + [
        s for s in EXTRA_SCOPES if s["name"] not in {d["name"] for d in data["scopes"]}
    ]
    scopes = [
        {
            "name": s["name"],
            "title": s["title"],
            "description": s["description"],
            "tier": Tier(s["tier"]),
            "sensitivity": Sensitivity(s["sensitivity"]),
            "data_owner": s["data_owner"],
            "created_at": now,
        }
        for s in scope_entries
    ]
    schemes = [
        {
            "slug": k["slug"],
            "title": k["title"],
            "description": k["description"],
            "criteria": k["criteria"],
            "validity_days": k["validity_days"],
            "created_at": now,
        }
        for k in data["kitemark_schemes"]
    ]
    _check_templates(
        manifests, {s["name"] for s in scopes}, {k["slug"]: k["criteria"] for k in schemes}
    )
    version_data = next(v for v in data["guideline_versions"] if v["version"] == GUIDELINE_VERSION)
    version_id = new_id("gv")
    versions = [
        {
            "id": version_id,
            "version": GUIDELINE_VERSION,
            "title": version_data["title"],
            "status": VersionStatus.PUBLISHED,
            "created_by": None,
            "created_at": now - timedelta(days=60),
            "published_at": now - timedelta(days=53),
        }
    ]
    guidelines = [
        {
            "version_id": version_id,
            "position": position,
            "code": g["code"],
            "title": g["title"],
            "text": g["text"],
            "category": g["category"],
            "severity": Severity(g["severity"]),
            "check_id": g["check"],
            "kitemarks": g["kitemarks"],
        }
        for position, g in enumerate(version_data["guidelines"])
    ]

    # Providers: one owner account (and one session token) per organisation.
    shared_hash = password_hash(PASSWORD)
    org_times = spread(n_orgs, now=now)
    accounts: list[dict[str, Any]] = []
    organisations: list[dict[str, Any]] = []
    memberships: list[dict[str, Any]] = []
    tokens: list[dict[str, Any]] = []
    plaintext: dict[str, str] = {}
    events: list[dict[str, Any]] = []
    for j in range(n_orgs):
        at = org_times[j]
        account_id, org_id = new_id("acc"), new_id("org")
        accounts.append(
            {
                "id": account_id,
                "email": f"owner{j}@provider{j}.example",
                "password_hash": shared_hash,
                "display_name": f"Provider Owner {j}",
                "roles": [Role.PROVIDER.value],
                "created_at": at,
                "updated_at": at,
            }
        )
        organisations.append(
            {
                "id": org_id,
                "name": f"Bench Provider {j} Ltd",
                "contact_email": f"contact@provider{j}.example",
                "company_number": f"{10_000_000 + j:08d}",
                "created_at": at,
            }
        )
        memberships.append(
            {
                "organisation_id": org_id,
                "account_id": account_id,
                "role": MemberRole.OWNER,
                "created_at": at,
            }
        )
        token, token_row = session_token(account_id, now=now)
        tokens.append(token_row)
        plaintext[account_id] = token
        events.append(
            event_row(
                "account:account:created",
                subject_type="account",
                subject_id=account_id,
                actor_id=account_id,
                body={"roles": [Role.PROVIDER.value]},
                at=at,
            )
        )
        events.append(
            event_row(
                "organisation:organisation:created",
                subject_type="organisation",
                subject_id=org_id,
                actor_id=account_id,
                body={"name": organisations[-1]["name"]},
                at=at,
            )
        )

    # Services, each with release 1: submitted, then withdrawn by the provider.
    service_times = spread(size, days=300, now=now)
    services: list[dict[str, Any]] = []
    releases: list[dict[str, Any]] = []
    for i in range(size):
        at = service_times[i]
        j = i % n_orgs
        owner, org_id = accounts[j]["id"], organisations[j]["id"]
        stem, template = manifests[i % len(manifests)]
        name = f"{template['name']} {i}"
        service_id, release_id, slug = new_id("svc"), new_id("rel"), f"{stem}-{i}"
        withdrawn_at = min(at + timedelta(days=2), now)
        services.append(
            {
                "id": service_id,
                "organisation_id": org_id,
                "slug": slug,
                "name": name,
                "created_by": owner,
                "created_at": at,
            }
        )
        releases.append(
            {
                "id": release_id,
                "service_id": service_id,
                "number": 1,
                "manifest": rename(template, name=name),
                "guideline_version_id": version_id,
                "status": ReleaseStatus.WITHDRAWN,
                "previous_release_id": None,
                "submitted_by": owner,
                "created_at": at,
                "status_changed_at": withdrawn_at,
            }
        )
        events.append(
            event_row(
                "service:service:created",
                subject_type="service",
                subject_id=service_id,
                actor_id=owner,
                body={"organisation_id": org_id, "slug": slug},
                at=at,
            )
        )
        events.append(
            event_row(
                "release:status:changed",
                subject_type="release",
                subject_id=release_id,
                actor_id=owner,
                body={
                    "service_id": service_id,
                    "from": None,
                    "to": ReleaseStatus.SUBMITTED.value,
                    "action": "submit",
                    "actor": Actor.PROVIDER.value,
                    "number": 1,
                    "guideline_version": GUIDELINE_VERSION,
                },
                at=at,
            )
        )
        events.append(
            event_row(
                "release:status:changed",
                subject_type="release",
                subject_id=release_id,
                actor_id=owner,
                body={
                    "service_id": service_id,
                    "from": ReleaseStatus.SUBMITTED.value,
                    "to": ReleaseStatus.WITHDRAWN.value,
                    "action": "withdraw",
                    "actor": Actor.PROVIDER.value,
                    "reason": "Resubmitting after our accessibility audit",
                },
                at=withdrawn_at,
            )
        )

    engine = create_async_engine(database_url)
    written: dict[str, int] = {}
    try:
        async with engine.begin() as conn:
            for table_name, rows in [
                ("accounts", accounts),
                ("access_tokens", tokens),
                ("organisations", organisations),
                ("memberships", memberships),
                ("scopes", scopes),
                ("kitemark_schemes", schemes),
                ("guideline_versions", versions),
                ("guidelines", guidelines),
                ("services", services),
                ("releases", releases),
                ("audit_events", events),
            ]:
                written[table_name] = await insert_rows(conn, table_name, rows)
    finally:
        await engine.dispose()

    # Measure a service in the middle of the set, seen by its organisation's owner.
    middle = size // 2
    service, release = services[middle], releases[middle]
    owner = service["created_by"]
    return Context(
        token=plaintext[owner],
        organisation_id=service["organisation_id"],
        service_id=service["id"],
        release_id=release["id"],
        rows=written,
    )


def targets(ctx: Context) -> list[Target]:
    auth = bearer(ctx.token)
    return [
        HEALTHZ,
        Target("GET /v1/guidelines/current", "GET", "/v1/guidelines/current", {}, None),
        Target("GET /v1/scopes?limit=100", "GET", "/v1/scopes?limit=100", {}, None),
        Target("GET /v1/account", "GET", "/v1/account", auth, None),
        Target("GET /v1/services/{id}", "GET", f"/v1/services/{ctx.service_id}", auth, None),
        Target(
            "GET /v1/services/{id}/releases/{rid}",
            "GET",
            f"/v1/services/{ctx.service_id}/releases/{ctx.release_id}",
            auth,
            None,
        ),
        Target(
            "GET /v1/organisations/{org}/services?limit=20",
            "GET",
            f"/v1/organisations/{ctx.organisation_id}/services?limit=20",
            auth,
            None,
        ),
    ]
