"""The API's resources, each defined once and served by both `Client` and `AsyncClient`."""

from ._core import AsyncMode, Resource, SyncMode
from .accounts import Accounts, ApiTokens, Auth, CurrentAccount
from .admin import Admin, AdminAccounts, DataApis
from .guidelines import Guidelines, KitemarkSchemes, Schemas, Scopes
from .organisations import Organisations, OrganisationWebhook
from .review import Checks, Review
from .services import Releases, Services

__all__ = [
    "Accounts",
    "Admin",
    "AdminAccounts",
    "ApiTokens",
    "AsyncMode",
    "Auth",
    "Checks",
    "CurrentAccount",
    "DataApis",
    "Guidelines",
    "KitemarkSchemes",
    "OrganisationWebhook",
    "Organisations",
    "Releases",
    "Resource",
    "Review",
    "Schemas",
    "Scopes",
    "Services",
    "SyncMode",
]
