"""GovStore's Python SDK: a typed client for the GovStore API, sync and async.

Start with `govstore.Client` (or `govstore.AsyncClient`); the README has examples.
"""

from ._client import AsyncClient, Client
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FieldError,
    GovStoreError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    PreconditionFailedError,
    RateLimitError,
    ServerError,
    UnprocessableEntityError,
    UnsupportedMediaTypeError,
)
from ._models import (
    Account,
    ApiToken,
    ApiTokenScope,
    DataApiCredentials,
    Guideline,
    GuidelineVersion,
    GuidelineVersionSummary,
    KitemarkScheme,
    LoginResult,
    Member,
    Organisation,
    OrganisationSummary,
    Release,
    ReleaseHistoryEntry,
    ReleaseStatus,
    ReleaseSummary,
    Scope,
    Service,
)
from ._pagination import AsyncPager, Page, SyncPager
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "Account",
    "ApiToken",
    "ApiTokenScope",
    "AsyncClient",
    "AsyncPager",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConflictError",
    "DataApiCredentials",
    "FieldError",
    "GovStoreError",
    "Guideline",
    "GuidelineVersion",
    "GuidelineVersionSummary",
    "KitemarkScheme",
    "LoginResult",
    "Member",
    "NotFoundError",
    "Organisation",
    "OrganisationSummary",
    "Page",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "RateLimitError",
    "Release",
    "ReleaseHistoryEntry",
    "ReleaseStatus",
    "ReleaseSummary",
    "Scope",
    "ServerError",
    "Service",
    "SyncPager",
    "UnprocessableEntityError",
    "UnsupportedMediaTypeError",
    "__version__",
]

# Public objects report the package as their home, as httpx does, so reprs and
# docs show `govstore.Client` rather than a private module.
for _name in __all__:
    if not _name.startswith("__"):
        globals()[_name].__module__ = "govstore"
del _name
