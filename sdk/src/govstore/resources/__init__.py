"""The API's resources, each defined once and served by both `Client` and `AsyncClient`."""

from ._core import AsyncMode, Resource, SyncMode
from .accounts import Accounts, ApiTokens, Auth, CurrentAccount
from .admin import Admin, AdminAccounts, DataApis
from .guidelines import Guidelines, KitemarkSchemes, Schemas, Scopes
from .organisations import Organisations
from .services import Releases, Services

__all__ = [
    "Accounts",
    "Admin",
    "AdminAccounts",
    "ApiTokens",
    "AsyncMode",
    "Auth",
    "CurrentAccount",
    "DataApis",
    "Guidelines",
    "KitemarkSchemes",
    "Organisations",
    "Releases",
    "Resource",
    "Schemas",
    "Scopes",
    "Services",
    "SyncMode",
]
