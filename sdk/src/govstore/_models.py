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
    "DataApiCredentials",
    "Guideline",
    "GuidelineVersion",
    "KitemarkScheme",
    "LoginResult",
    "Member",
    "Organisation",
    "Release",
    "ReleaseHistoryEntry",
    "ReleaseStatus",
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


class Account(GovStoreModel):
    """A person's account: citizen, provider, reviewer or admin."""

    id: str
    email: str
    display_name: str
    roles: list[str] = Field(default_factory=list)
    created_at: datetime | None = None


class LoginResult(GovStoreModel):
    """A first-party access token from `POST /v1/auth/login`."""

    access_token: str
    token_type: str
    expires_in: int


class ApiToken(GovStoreModel):
    """A long-lived, scoped API token; `token` holds the secret only in the create response."""

    id: str
    name: str
    prefix: str
    scopes: list[str] = Field(default_factory=list)
    expires_at: datetime | None = None
    created_at: datetime
    token: str | None = None


class Member(GovStoreModel):
    """An account's membership of an organisation."""

    account_id: str
    email: str
    display_name: str
    role: str


class Organisation(GovStoreModel):
    """A provider organisation and its members."""

    id: str
    name: str
    contact_email: str
    company_number: str | None = None
    members: list[Member] = Field(default_factory=list)
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


class GuidelineVersion(GovStoreModel):
    """A versioned set of guidelines; immutable once published."""

    version: str
    title: str
    status: str
    published_at: datetime | None = None
    guidelines: list[Guideline] = Field(default_factory=list)


class Scope(GovStoreModel):
    """A data scope a service can ask for, with its access tier and sensitivity."""

    name: str
    title: str
    description: str
    tier: str
    sensitivity: str
    data_owner: str


class KitemarkScheme(GovStoreModel):
    """A kitemark scheme: the guideline codes it requires and how long a grant lasts."""

    slug: str
    title: str
    description: str
    criteria: list[str] = Field(default_factory=list)
    validity_days: int


class DataApiCredentials(GovStoreModel):
    """A department's data API; `client_secret` is present only when it is registered."""

    id: str
    name: str
    data_owner: str
    client_id: str
    client_secret: str | None = None


class ReleaseHistoryEntry(GovStoreModel):
    """One status change in a release's life."""

    status: str
    at: datetime
    actor: str | None = None
    reason: str | None = None


class Release(GovStoreModel):
    """A submitted manifest and where it stands in review."""

    id: str
    service_id: str
    status: str
    manifest: dict[str, Any] = Field(default_factory=dict)
    guideline_version: str | None = None
    previous_release_id: str | None = None
    created_at: datetime
    updated_at: datetime | None = None
    history: list[ReleaseHistoryEntry] = Field(default_factory=list)


class Service(GovStoreModel):
    """A provider's service; `releases` is filled in the provider's view of one service."""

    id: str
    slug: str
    name: str
    organisation_id: str
    created_at: datetime
    releases: list[Release] | None = None
