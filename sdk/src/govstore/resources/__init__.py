"""The API's resources, each defined once and served by both `Client` and `AsyncClient`."""

from ._core import AsyncMode, Resource, SyncMode
from .accounts import Accounts, ApiTokens, Auth, CurrentAccount
from .admin import Admin, AdminAccounts, DataApis
from .catalogue import Catalogue
from .complaints import Complaints
from .consents import Consents
from .guidelines import Guidelines, KitemarkSchemes, Schemas, Scopes
from .kitemarks import Kitemarks, ScopeGrants
from .me import Me
from .organisations import Organisations, OrganisationWebhook
from .review import Checks, Review
from .services import Releases, ServiceOAuthClient, Services
from .transparency import Transparency
from .well_known import WellKnown

__all__ = [
    "Accounts",
    "Admin",
    "AdminAccounts",
    "ApiTokens",
    "AsyncMode",
    "Auth",
    "Catalogue",
    "Checks",
    "Complaints",
    "Consents",
    "CurrentAccount",
    "DataApis",
    "Guidelines",
    "KitemarkSchemes",
    "Kitemarks",
    "Me",
    "OrganisationWebhook",
    "Organisations",
    "Releases",
    "Resource",
    "Review",
    "Schemas",
    "ScopeGrants",
    "Scopes",
    "ServiceOAuthClient",
    "Services",
    "SyncMode",
    "Transparency",
    "WellKnown",
]
