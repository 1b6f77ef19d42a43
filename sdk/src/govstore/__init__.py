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
    DataApiCredentials,
    Guideline,
    GuidelineVersion,
    KitemarkScheme,
    LoginResult,
    Member,
    Organisation,
    Release,
    ReleaseHistoryEntry,
    ReleaseStatus,
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
    "KitemarkScheme",
    "LoginResult",
    "Member",
    "NotFoundError",
    "Organisation",
    "Page",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "RateLimitError",
    "Release",
    "ReleaseHistoryEntry",
    "ReleaseStatus",
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
