"""Typed models of the API's responses.

Every model allows extra fields, so a server that adds fields never breaks an
older client; the extras are kept and reachable as attributes or through
`model_extra`. Fields the API contract does not promise are optional.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Account",
    "ApiToken",
    "ApiTokenScope",
    "DataApiCredentials",
    "Guideline",
    "GuidelineVersion",
    "GuidelineVersionSummary",
    "KitemarkScheme",
    "LoginResult",
    "Member",
    "Organisation",
    "OrganisationSummary",
    "Release",
    "ReleaseHistoryEntry",
    "ReleaseStatus",
    "ReleaseSummary",
    "Scope",
    "Service",
]


class GovStoreModel(BaseModel):
    """Base of the response models: unknown fields are kept, never rejected."""

    model_config = ConfigDict(extra="allow")


class ReleaseStatus(StrEnum):
    """The statuses a release moves through; `Release.status` compares equal to these."""

    SUBMITTED = "submitted"
    AUTOMATED_REVIEW = "automated_review"
    CHANGES_REQUESTED = "changes_requested"
    AWAITING_REVIEW = "awaiting_review"
    IN_REVIEW = "in_review"
    AWAITING_SECOND_APPROVAL = "awaiting_second_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    PUBLISHED = "published"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"


class ApiTokenScope(StrEnum):
    """What an API token may do; pass these (or the plain strings) to `api_tokens.create`.

    `read` allows every read the account may make; each `...:write` scope adds one
    kind of change. An account may use only its roles' scopes (providers
    `organisations:write` and `services:write`, reviewers `review:write`, admins
    `admin:write` and `review:write`), and a token never does more than its account may.
    """

    READ = "read"
    ORGANISATIONS_WRITE = "organisations:write"
    SERVICES_WRITE = "services:write"
    REVIEW_WRITE = "review:write"
    ADMIN_WRITE = "admin:write"


class Account(GovStoreModel):
    """A person's account: citizen, provider, reviewer or admin."""

    id: str
    email: str
    display_name: str
    roles: list[str] = Field(default_factory=list)
    created_at: datetime


class LoginResult(GovStoreModel):
    """A first-party access token from `POST /v1/auth/login`."""

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme's name, not a secret
    expires_in: int


class ApiToken(GovStoreModel):
    """A long-lived, scoped API token; `token` holds the secret only in the create response."""

    id: str
    name: str
    prefix: str
    scopes: list[str] = Field(default_factory=list)
    created_at: datetime
    expires_at: datetime
    token: str | None = None


class Member(GovStoreModel):
    """An account's membership of an organisation: `owner` or `developer`."""

    account_id: str
    email: str
    display_name: str
    role: str
    joined_at: datetime


class Organisation(GovStoreModel):
    """A provider organisation and its members."""

    id: str
    name: str
    contact_email: str
    company_number: str | None = None
    members: list[Member] = Field(default_factory=list)
    created_at: datetime


class OrganisationSummary(GovStoreModel):
    """An organisation in the caller's list of them, with the caller's `role` in it."""

    id: str
    name: str
    role: str
    created_at: datetime


class Guideline(GovStoreModel):
    """One guideline: what a release must meet, and the automated check that tests it, if any."""

    code: str
    title: str
    text: str
    category: str
    severity: str
    check: str | None = None
    kitemarks: list[str] = Field(default_factory=list)


class GuidelineVersionSummary(GovStoreModel):
    """A guideline version as listed: `draft` or `published`, without its guidelines."""

    version: str
    title: str
    status: str
    created_at: datetime
    published_at: datetime | None = None


class GuidelineVersion(GuidelineVersionSummary):
    """A versioned set of guidelines; immutable once published."""

    guidelines: list[Guideline] = Field(default_factory=list)


class Scope(GovStoreModel):
    """A data scope a service can ask for, with its access tier and sensitivity."""

    name: str
    title: str
    description: str
    tier: str
    sensitivity: str
    data_owner: str
    created_at: datetime


class KitemarkScheme(GovStoreModel):
    """A kitemark scheme: the guideline codes it requires and how long a grant lasts."""

    slug: str
    title: str
    description: str
    criteria: list[str] = Field(default_factory=list)
    validity_days: int
    created_at: datetime


class DataApiCredentials(GovStoreModel):
    """A department's data API; `client_secret` is present only when it is registered."""

    id: str
    name: str
    data_owner: str
    client_id: str
    created_at: datetime
    client_secret: str | None = None


class ReleaseHistoryEntry(GovStoreModel):
    """One status change in a release's life: what was done, by whom, from which status."""

    status: str
    previous_status: str | None = None
    action: str
    at: datetime
    actor_id: str | None = None
    reason: str | None = None


class ReleaseSummary(GovStoreModel):
    """A release as listed: its number within the service and where it stands."""

    id: str
    number: int
    status: str
    created_at: datetime
    status_changed_at: datetime


class Release(ReleaseSummary):
    """A submitted manifest and where it stands in review.

    `changed_fields` names the manifest's top-level fields that differ from the
    previous release's; it is None for a service's first release.
    """

    service_id: str
    manifest: dict[str, Any] = Field(default_factory=dict)
    guideline_version: str
    previous_release_id: str | None = None
    changed_fields: list[str] | None = None
    history: list[ReleaseHistoryEntry] = Field(default_factory=list)


class Service(GovStoreModel):
    """A provider's service and its releases, newest first."""

    id: str
    slug: str
    name: str
    organisation_id: str
    created_at: datetime
    releases: list[ReleaseSummary] = Field(default_factory=list)
