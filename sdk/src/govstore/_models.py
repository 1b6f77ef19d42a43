"""Typed models of the API's responses.

Every model allows extra fields, so a server that adds fields never breaks an
older client; the extras are kept and reachable as attributes or through
`model_extra`. Fields the API contract does not promise are optional.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

__all__ = [
    "AccessLogEntry",
    "Account",
    "ApiToken",
    "ApiTokenScope",
    "Check",
    "CitizenExport",
    "Claim",
    "Complaint",
    "ComplaintCategory",
    "ComplaintFigures",
    "ComplaintResponse",
    "ComplaintStatus",
    "Consent",
    "ConsentReceipt",
    "ConsentStatus",
    "ConsentUse",
    "ConsistencyProof",
    "DataApiCredentials",
    "DataApiRef",
    "DataUse",
    "Decision",
    "DecisionOutcome",
    "DeliveryStatus",
    "ExportedAccount",
    "ExportedComplaint",
    "ExportedComplaintResponse",
    "ExportedConsent",
    "ExportedOrganisation",
    "ExportedRating",
    "ExportedToken",
    "Finding",
    "FindingInput",
    "FindingResult",
    "GrantStatus",
    "Guideline",
    "GuidelineVersion",
    "GuidelineVersionSummary",
    "InclusionProof",
    "Introspection",
    "Jwks",
    "Kitemark",
    "KitemarkBadge",
    "KitemarkClaims",
    "KitemarkEvidence",
    "KitemarkScheme",
    "KitemarkStatus",
    "Listing",
    "LoginResult",
    "Member",
    "OAuthClientCredentials",
    "OAuthClientRegistration",
    "OAuthServerMetadata",
    "Organisation",
    "OrganisationSummary",
    "OutcomeReport",
    "OutcomeSeries",
    "OutcomeValue",
    "ProviderRef",
    "ProviderService",
    "PublicRating",
    "QueueInfo",
    "QueueItem",
    "Rating",
    "RatingBreakdown",
    "RatingSummary",
    "Release",
    "ReleaseDetail",
    "ReleaseHistoryEntry",
    "ReleaseStatus",
    "ReleaseSummary",
    "ReviewerRelease",
    "Scope",
    "ScopeGrant",
    "SearchSort",
    "Service",
    "ServicePage",
    "ServicePageKitemark",
    "ServiceRef",
    "TokenResponse",
    "TransparencyEntries",
    "TransparencyEntry",
    "TransparencyFigures",
    "TreeHead",
    "Webhook",
    "WebhookDelivery",
    "WebhookEvent",
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


class DecisionOutcome(StrEnum):
    """What a reviewer decides; `Decision.outcome` compares equal to these."""

    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"


class FindingResult(StrEnum):
    """One guideline's result for a release; `Finding.result` compares equal to these."""

    PASS = "pass"  # noqa: S105 - a finding result, not a password
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"


class DeliveryStatus(StrEnum):
    """Where a webhook delivery stands: still being tried, delivered, or given up on."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


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


class GrantStatus(StrEnum):
    """Where a kitemark or scope grant stands; `Kitemark.status` compares equal to these.

    A live grant past its expiry reads `expired`; `superseded` means a newer approved
    release of the service holds the grant now.
    """

    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


class ConsentStatus(StrEnum):
    """Where a citizen's consent stands; `Consent.status` compares equal to these."""

    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"


class SearchSort(StrEnum):
    """How `catalogue.search` orders services; pass these (or the plain strings) as `sort`.

    `relevance` (the default with `q`) puts services whose name holds a query word first,
    then the better rated, then the newer; `rating` is the default without `q`.
    """

    RELEVANCE = "relevance"
    RATING = "rating"
    NEWEST = "newest"
    NAME = "name"


class ComplaintCategory(StrEnum):
    """What a complaint is about; pass these (or the plain strings) to `catalogue.complain`."""

    DATA_MISUSE = "data_misuse"
    PRIVACY = "privacy"
    SECURITY = "security"
    ACCESSIBILITY = "accessibility"
    ACCURACY = "accuracy"
    SERVICE_QUALITY = "service_quality"
    OTHER = "other"


class ComplaintStatus(StrEnum):
    """Where a complaint stands; `Complaint.status` compares equal to these.

    `responded` once the provider (or a reviewer) has answered, `resolved` once they have
    said how it was put right.
    """

    OPEN = "open"
    RESPONDED = "responded"
    RESOLVED = "resolved"


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


class KitemarkEvidence(GovStoreModel):
    """What one criterion of a kitemark rests on: the evidence `level` accepted, the provider's
    `reference` to it (if any), and the reviewer's `finding`."""

    criterion: str
    level: str
    reference: str | None = None
    finding: str


class Kitemark(GovStoreModel):
    """A kitemark granted to a service: its status, expiry, evidence and signed credential.

    `status` is a `GrantStatus`; `valid` is true while it is active and not expired.
    `credential` is a compact JWS (ES256) a verifier checks offline with
    `govstore.verify_kitemark` and the keys at `/.well-known/jwks.json`; `status_url`
    says whether it still holds now (suspension and revocation show there at once).
    """

    id: str
    service_id: str
    release_id: str
    scheme: str
    status: str
    valid: bool
    granted_at: datetime
    expires_at: datetime
    status_reason: str | None = None
    evidence: list[KitemarkEvidence] = Field(default_factory=list)
    credential: str
    status_url: str


class KitemarkStatus(GovStoreModel):
    """Whether a kitemark holds now: what a verifier should trust, beyond the credential."""

    status: str
    valid: bool
    expires_at: datetime


class ScopeGrant(GovStoreModel):
    """A data scope granted to a service at a `tier`, by a release's approval.

    `status` is a `GrantStatus`; a revoked grant's scope leaves the service's tokens at
    their next request or introspection.
    """

    id: str
    scope: str
    tier: str
    status: str
    release_id: str
    granted_at: datetime
    status_reason: str | None = None


class ProviderService(Service):
    """A service in its provider's view: its releases, and what approval gave it.

    `kitemarks` and `scope_grants` are the grants it holds; `oauth_client_id` is None
    until a release is approved (`services.oauth_client.get` has the client's details).
    """

    kitemarks: list[Kitemark] = Field(default_factory=list)
    scope_grants: list[ScopeGrant] = Field(default_factory=list)
    oauth_client_id: str | None = None


# Review: checks, findings, decisions, the queue


class Check(GovStoreModel):
    """An automated check a guideline can name, by `id`."""

    id: str
    title: str
    description: str


class Finding(GovStoreModel):
    """One guideline's result for a release, from an automated check or from a reviewer.

    `source` is `automated` or `reviewer`; `result` a `FindingResult`. `pointer` is a
    JSON pointer into the manifest (empty when the finding concerns it as a whole), and
    `fix` says how to put a failure right.
    """

    code: str
    source: str
    check: str | None = None
    result: str
    severity: str
    pointer: str
    message: str
    fix: str
    created_at: datetime


class Decision(GovStoreModel):
    """A reviewer's decision: its outcome, a reason code per failed guideline, and the grants.

    An approval of a high-sensitivity scope `needs_second_approval`; `second_outcome` and
    `completed_at` are set once a second reviewer has answered (`completed_at` at once
    for any other decision).
    """

    id: str
    release_id: str
    outcome: str
    reason_codes: list[str] = Field(default_factory=list)
    kitemarks: list[str] = Field(default_factory=list)
    scopes: list[str] = Field(default_factory=list)
    note: str | None = None
    needs_second_approval: bool
    second_outcome: str | None = None
    decided_at: datetime
    completed_at: datetime | None = None


class QueueInfo(GovStoreModel):
    """Where a release waiting for a reviewer stands: `position` 1 is next (None once claimed)."""

    position: int | None = None
    median_time_to_decision_seconds: float | None = None


class ReleaseDetail(Release):
    """A release with its review: every finding, the latest decision, and its place in the queue.

    `queue` is set only while the release waits for a reviewer or a decision.
    """

    findings: list[Finding] = Field(default_factory=list)
    decision: Decision | None = None
    queue: QueueInfo | None = None


class QueueItem(GovStoreModel):
    """A release in the review queue, oldest and riskiest first."""

    release_id: str
    service_id: str
    service_name: str
    service_slug: str
    organisation_id: str
    number: int
    risk_score: int
    risk_factors: list[str] = Field(default_factory=list)
    queued_at: datetime | None = None
    waiting_seconds: int


class Claim(GovStoreModel):
    """A reviewer's lease on a release: theirs to decide until `lease_expires_at`."""

    release_id: str
    status: str
    claimed_by: str
    lease_expires_at: datetime


class ReviewerRelease(ReleaseDetail):
    """A release in a reviewer's view: its risk, its current claim and every decision so far."""

    service_name: str
    organisation_id: str
    risk_score: int
    risk_factors: list[str] = Field(default_factory=list)
    claimed_by: str | None = None
    lease_expires_at: datetime | None = None
    decisions: list[Decision] = Field(default_factory=list)


class FindingInput(BaseModel):
    """A reviewer's finding for one guideline, as sent with a decision.

    `result` is a `FindingResult` (or its value); `note` says why, for the provider.
    Unknown fields are refused here rather than by the server.
    """

    model_config = ConfigDict(extra="forbid")

    code: str
    result: FindingResult
    note: str | None = None


# Webhooks


class Webhook(GovStoreModel):
    """An organisation's webhook endpoint and the events sent to it.

    `secret` holds the signing secret only in the answer to `webhook.set` when the
    server generated it: keep it then, it is never shown again.
    """

    organisation_id: str
    url: str
    events: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    secret: str | None = None


class WebhookDelivery(GovStoreModel):
    """One event sent (or being sent) to the organisation's endpoint, with its attempts.

    `payload` is the JSON body sent: `WebhookEvent.model_validate(delivery.payload)`
    reads it as the receiver does.
    """

    id: str
    event: str
    url: str
    status: str
    attempts: int
    last_status_code: int | None = None
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    created_at: datetime
    delivered_at: datetime | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


class WebhookEvent(GovStoreModel):
    """The body of a webhook delivery, as `verify_webhook` returns it.

    `id` is the delivery's id (also in the `GovStore-Delivery` header); `event` names
    what happened, such as `release.status_changed`, whose `data` holds `release_id`,
    `service_id`, `from`, `to`, `action` and, when given, `reason`.
    """

    id: str
    event: str
    created_at: datetime
    data: dict[str, Any] = Field(default_factory=dict)


# Keys, OAuth and consents


class Jwks(GovStoreModel):
    """The platform's public signing keys (RFC 7517 JWK Set), to verify credentials offline.

    Every key that signs now, and retired keys until what they signed has expired; pass
    it to `govstore.verify_kitemark`.
    """

    keys: list[dict[str, Any]] = Field(default_factory=list)


class OAuthServerMetadata(GovStoreModel):
    """The authorization server's metadata (RFC 8414): endpoints and what they support."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    introspection_endpoint: str
    revocation_endpoint: str
    jwks_uri: str
    response_types_supported: list[str] = Field(default_factory=list)
    response_modes_supported: list[str] = Field(default_factory=list)
    grant_types_supported: list[str] = Field(default_factory=list)
    code_challenge_methods_supported: list[str] = Field(default_factory=list)
    token_endpoint_auth_methods_supported: list[str] = Field(default_factory=list)
    introspection_endpoint_auth_methods_supported: list[str] = Field(default_factory=list)
    revocation_endpoint_auth_methods_supported: list[str] = Field(default_factory=list)
    service_documentation: str | None = None


class OAuthClientRegistration(GovStoreModel):
    """A service's OAuth client: its id, and the redirect URIs and scopes approval gave it.

    `redirect_uris` are exactly as in the approved manifest; `scopes` those the service
    holds now. `has_secret` is false until `services.oauth_client.rotate_secret` issues one.
    """

    client_id: str
    redirect_uris: list[str] = Field(default_factory=list)
    scopes: list[str] = Field(default_factory=list)
    has_secret: bool
    secret_rotated_at: datetime | None = None


class OAuthClientCredentials(GovStoreModel):
    """A service's OAuth client id and a new secret: shown this once only, so store it now."""

    client_id: str
    client_secret: str


class ServiceRef(GovStoreModel):
    """A service, named: enough to show a citizen who holds their consent."""

    id: str
    slug: str
    name: str


class ConsentUse(GovStoreModel):
    """One scope of a consent as the citizen was shown it: what, at which tier, why, how long."""

    scope: str
    title: str
    description: str | None = None
    data_owner: str | None = None
    tier: str
    tier_meaning: str | None = None
    purpose: str
    purpose_description: str | None = None
    lawful_basis: str | None = None
    retention_days: int | None = None
    shared_with_third_parties: bool | None = None
    optional: bool | None = None


class Consent(GovStoreModel):
    """A citizen's consent to a service: the scopes it may see, and until when.

    `status` is a `ConsentStatus` (past its expiry it reads `expired`); `ended_at` and
    `end_reason` are set once it is revoked or has expired.
    """

    id: str
    service: ServiceRef
    scopes: list[str] = Field(default_factory=list)
    uses: list[ConsentUse] = Field(default_factory=list)
    status: str
    granted_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None
    end_reason: str | None = None
    last_access_at: datetime | None = None


class ConsentReceipt(GovStoreModel):
    """A signed consent receipt: `receipt` is a compact JWS (ES256) over `claims`, the
    Kantara Consent Receipt v1.1 fields; the keys are at `/.well-known/jwks.json`."""

    receipt: str
    claims: dict[str, Any] = Field(default_factory=dict)


class TokenResponse(GovStoreModel):
    """The token endpoint's answer (RFC 6749 §5.1), from `OAuthClient`'s grants.

    `scope` is space-separated (`scopes` splits it); `refresh_token` is set for the
    authorization code and refresh grants, never for client credentials.
    """

    access_token: str
    token_type: str
    expires_in: int
    scope: str = ""
    refresh_token: str | None = None

    @property
    def scopes(self) -> list[str]:
        """The granted scopes, as a list."""
        return self.scope.split()


class Introspection(GovStoreModel):
    """What the server says of a token (RFC 7662), from `DataApiClient.introspect`.

    Inactive tokens carry nothing but `active=False`. An active one names the `scope`
    (those of the data API's own data owner only), the service and its `client_id`, the
    `tiers` of access per scope and, for a citizen's token, `sub` (the account) and
    `consent_id`.
    """

    active: bool
    scope: str | None = None
    client_id: str | None = None
    sub: str | None = None
    exp: datetime | None = None
    iat: datetime | None = None
    iss: str | None = None
    token_type: str | None = None
    service_id: str | None = None
    consent_id: str | None = None
    tiers: dict[str, str] = Field(default_factory=dict)

    @property
    def scopes(self) -> list[str]:
        """The active scopes, as a list (empty for an inactive token)."""
        return (self.scope or "").split()


class KitemarkClaims(GovStoreModel):
    """What a verified kitemark credential asserts, from `govstore.verify_kitemark`.

    `sub` is the service's id and `jti` the kitemark's (its grant); `iat`, `nbf` and
    `exp` are UTC datetimes. `status_url` says whether the kitemark still holds now: a
    suspension or revocation does not change the credential already issued.
    """

    iss: str
    sub: str
    jti: str
    iat: datetime
    nbf: datetime
    exp: datetime
    scheme: str
    scheme_title: str
    service_slug: str
    service_name: str
    release: str
    release_number: int
    evidence: list[KitemarkEvidence] = Field(default_factory=list)
    status_url: str


# The catalogue: search, service pages, ratings


class ProviderRef(GovStoreModel):
    """The organisation that provides a listed service."""

    id: str
    name: str


class KitemarkBadge(GovStoreModel):
    """An active kitemark as a search result shows it: its scheme, title and expiry."""

    scheme: str
    title: str
    expires_at: datetime


class RatingSummary(GovStoreModel):
    """How citizens rate a service: how many ratings, and their mean (None until the first)."""

    count: int
    mean: float | None = None


class Listing(GovStoreModel):
    """A published service as `catalogue.search` finds it.

    `scopes` are the data scopes the service was granted; `under_review` is true while
    complaints have sent its live release back to review (it keeps working meanwhile).
    `url` is the service's catalogue page in the API (`catalogue.get(slug)` reads it).
    """

    id: str
    slug: str
    name: str
    summary: str
    category: str
    provider: ProviderRef
    kitemarks: list[KitemarkBadge] = Field(default_factory=list)
    scopes: list[str] = Field(default_factory=list)
    rating: RatingSummary
    under_review: bool
    listed_at: datetime
    url: str


class ServicePageKitemark(GovStoreModel):
    """A kitemark on a service's catalogue page: its status now, expiry and status URL.

    `status` is a `GrantStatus`; `id` is the kitemark's, for `kitemarks.status`.
    """

    id: str
    scheme: str
    status: str
    valid: bool
    granted_at: datetime
    expires_at: datetime
    status_url: str


class DataUse(GovStoreModel):
    """One use of citizens' data a listed service makes, with `plain_english`, the whole use in
    one sentence: what it reads, from whom, at which tier, why, how long it is kept, whether
    it is shared, and whether the citizen can say no to it (`optional`)."""

    scope: str
    title: str
    description: str
    data_owner: str
    tier: str
    tier_meaning: str
    purpose: str
    purpose_description: str
    lawful_basis: str
    retention_days: int | None = None
    shared_with_third_parties: bool
    optional: bool
    plain_english: str


class RatingBreakdown(RatingSummary):
    """A service's ratings on its catalogue page: the summary, and how many gave each star.

    `distribution` maps `"1"` to `"5"` to the number of ratings with that many stars.
    """

    distribution: dict[str, int] = Field(default_factory=dict)


class OutcomeValue(GovStoreModel):
    """The value reported for one period (`2026`, `2026-10` or `2026-Q3`) of an outcome metric."""

    period: str
    value: float
    reported_at: datetime


class OutcomeSeries(GovStoreModel):
    """One outcome metric a service declared, with the latest value per period, newest first."""

    metric: str
    unit: str | None = None
    description: str
    reports: list[OutcomeValue] = Field(default_factory=list)


class ComplaintFigures(GovStoreModel):
    """How many complaints a service has had, how many are open, and how fast they are resolved."""

    total: int
    open: int
    resolved: int
    median_days_to_resolve: float | None = None


class TransparencyFigures(GovStoreModel):
    """A service's public figures: consents given (`opt_ins`), active now, revoked and expired,
    and its complaints. Nobody is named."""

    opt_ins: int
    active_consents: int
    revocations: int
    expiries: int
    complaints: ComplaintFigures


class ServicePage(GovStoreModel):
    """A service's catalogue page: everything a citizen needs to decide whether to use it.

    The provider (`{"id", "name"}`) and the listed release (`{"id", "number"}`), the live
    kitemarks, every data use in plain English, ratings, declared outcomes and the public
    transparency figures.
    """

    id: str
    slug: str
    name: str
    summary: str
    description: str
    category: str
    provider: dict[str, str] = Field(default_factory=dict)
    release: dict[str, Any] = Field(default_factory=dict)
    website_url: str | None = None
    privacy_policy_url: str | None = None
    accessibility_statement_url: str | None = None
    support_email: str | None = None
    languages: list[str] = Field(default_factory=list)
    pricing: dict[str, Any] | None = None
    under_review: bool
    listed_at: datetime
    kitemarks: list[ServicePageKitemark] = Field(default_factory=list)
    data_uses: list[DataUse] = Field(default_factory=list)
    ratings: RatingBreakdown
    outcomes: list[OutcomeSeries] = Field(default_factory=list)
    transparency: TransparencyFigures


class PublicRating(GovStoreModel):
    """A rating as anyone sees it: anonymous, and always from a verified user of the service."""

    stars: int
    comment: str | None = None
    verified: bool
    updated_at: datetime


class Rating(GovStoreModel):
    """The caller's own rating of a service, from `catalogue.rate`.

    A citizen has one rating per service: rating again replaces it, and `replaced` says
    whether this call did (the server answered 200) or made the first one (201).
    """

    id: str
    service: ServiceRef
    stars: int
    comment: str | None = None
    verified: bool
    created_at: datetime
    updated_at: datetime

    _replaced: bool = PrivateAttr(default=False)

    @property
    def replaced(self) -> bool:
        """True when this rating replaced the caller's earlier one, False for a first rating."""
        return self._replaced


# Complaints and outcomes


class ComplaintResponse(GovStoreModel):
    """An answer to a complaint, `by` the `provider` or a `reviewer`."""

    id: str
    by: str
    message: str
    created_at: datetime


class Complaint(GovStoreModel):
    """A citizen's complaint about a service, with every response, oldest first.

    `category` is a `ComplaintCategory` and `status` a `ComplaintStatus`; `resolution` and
    `resolved_at` are set once it is resolved. `escalated_to_review` is true when it was
    among the complaints that sent the service's live release back to review.
    Complainants are never named to the provider.
    """

    id: str
    service: ServiceRef
    release_id: str
    category: str
    description: str
    status: str
    resolution: str | None = None
    created_at: datetime
    resolved_at: datetime | None = None
    escalated_to_review: bool
    responses: list[ComplaintResponse] = Field(default_factory=list)


class OutcomeReport(GovStoreModel):
    """One report of an outcome metric for a period, by a member of the provider.

    A later report for the same period and metric replaces the public figure; both stay
    in the history (`services.outcomes`).
    """

    id: str
    service_id: str
    release_id: str
    period: str
    metric: str
    value: float
    reported_by: str | None = None
    reported_at: datetime


# A citizen's own records


class DataApiRef(GovStoreModel):
    """A department's data API, named: the one a service read a citizen's data through."""

    id: str
    name: str
    data_owner: str


class AccessLogEntry(GovStoreModel):
    """One read of the citizen's data: which service read which scope, at which tier, why,
    through which department's data API (with its `case_reference`, if any), and when."""

    id: str
    at: datetime
    service: ServiceRef
    scope: str
    scope_title: str
    tier: str
    purpose: str
    purpose_description: str
    data_api: DataApiRef
    case_reference: str | None = None
    consent_id: str


class ExportedAccount(GovStoreModel):
    """The account in a `CitizenExport`."""

    id: str
    email: str
    display_name: str
    roles: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class ExportedToken(GovStoreModel):
    """A sign-in session or API token in a `CitizenExport` (`kind`): never its secret, only the
    first characters (`prefix`)."""

    id: str
    kind: str
    name: str
    prefix: str
    scopes: list[str] = Field(default_factory=list)
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None


class ExportedOrganisation(GovStoreModel):
    """An organisation the citizen belongs to, and their role in it, in a `CitizenExport`."""

    id: str
    name: str
    role: str


class ExportedConsent(GovStoreModel):
    """A consent in a `CitizenExport`, ended ones included; as `Consent`."""

    id: str
    service: ServiceRef
    scopes: list[str] = Field(default_factory=list)
    uses: list[ConsentUse] = Field(default_factory=list)
    status: str
    granted_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None
    end_reason: str | None = None
    last_access_at: datetime | None = None


class ExportedRating(GovStoreModel):
    """A rating the citizen gave, in a `CitizenExport`."""

    id: str
    service: ServiceRef
    stars: int
    comment: str | None = None
    created_at: datetime
    updated_at: datetime


class ExportedComplaintResponse(GovStoreModel):
    """A response to one of the citizen's complaints, in a `CitizenExport`."""

    by: str
    message: str
    at: datetime


class ExportedComplaint(GovStoreModel):
    """A complaint the citizen made, with its responses, in a `CitizenExport`."""

    id: str
    service: ServiceRef
    category: str
    description: str
    status: str
    resolution: str | None = None
    created_at: datetime
    resolved_at: datetime | None = None
    responses: list[ExportedComplaintResponse] = Field(default_factory=list)


class CitizenExport(GovStoreModel):
    """Everything GovStore holds about the signed-in citizen, from `me.export`.

    `format` names the document's version (`govstore-citizen-export/1`); the server's
    docs/citizen-data.md explains every field. Secrets are never exported.
    """

    format: str
    exported_at: datetime
    account: ExportedAccount
    sign_ins_and_api_tokens: list[ExportedToken] = Field(default_factory=list)
    organisations: list[ExportedOrganisation] = Field(default_factory=list)
    consents: list[ExportedConsent] = Field(default_factory=list)
    access_log: list[AccessLogEntry] = Field(default_factory=list)
    ratings: list[ExportedRating] = Field(default_factory=list)
    complaints: list[ExportedComplaint] = Field(default_factory=list)


class TreeHead(GovStoreModel):
    """The transparency log's signed tree head, from `transparency.tree_head`.

    `root_hash` is the RFC 9162 Merkle tree hash of the first `tree_size` entries (base64,
    standard alphabet, padded); `timestamp` is when it was signed, in milliseconds since the
    Unix epoch; `signature` is a compact JWS (ES256, `typ` `tree-head+jwt`) by a key in the
    JWKS, whose payload is the canonical JSON of `{root_hash, timestamp, tree_size}`.
    """

    tree_size: int
    root_hash: str
    timestamp: int
    signature: str


class TransparencyEntry(GovStoreModel):
    """One entry (leaf) of the transparency log.

    `entry` is the exact text that was hashed: `leaf_hash` = SHA-256(0x00 || entry as UTF-8),
    base64. It is the canonical JSON (sorted keys, no whitespace, ASCII) of `{body, kind,
    time}`. A citizen appears in `body` only as a pseudonym (`body["citizen"]`).
    """

    leaf_index: int
    leaf_hash: str
    kind: str
    time: str
    body: dict[str, Any] = Field(default_factory=dict)
    entry: str


class TransparencyEntries(GovStoreModel):
    """A range of the log's entries, in leaf order, and the current tree's size."""

    tree_size: int
    items: list[TransparencyEntry] = Field(default_factory=list)


class InclusionProof(GovStoreModel):
    """An RFC 9162 inclusion proof: the audit path (base64 hashes) of one leaf in a tree."""

    leaf_index: int
    tree_size: int
    audit_path: list[str] = Field(default_factory=list)


class ConsistencyProof(GovStoreModel):
    """An RFC 9162 consistency proof (base64 hashes) that the tree of `second` leaves extends
    the tree of `first` leaves (empty when they are equal)."""

    first: int
    second: int
    proof: list[str] = Field(default_factory=list)
