"""`Client` and `AsyncClient`: the GovStore API grouped by resource, sync and async.

Both expose the same resources and methods, with the same arguments; on
`AsyncClient` the calls are awaited and lists are iterated with `async for`.
"""

from __future__ import annotations

import httpx

from ._base_client import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, AsyncAPIClient, SyncAPIClient
from .resources import (
    Accounts,
    Admin,
    AsyncMode,
    Auth,
    Catalogue,
    Checks,
    Complaints,
    CurrentAccount,
    Guidelines,
    Kitemarks,
    KitemarkSchemes,
    Me,
    Organisations,
    Releases,
    Review,
    Schemas,
    ScopeGrants,
    Scopes,
    Services,
    SyncMode,
    Transparency,
    WellKnown,
)

__all__ = ["AsyncClient", "Client"]


class Client(SyncAPIClient):
    """A synchronous GovStore API client.

    `base_url` defaults to `$GOVSTORE_BASE_URL`, else http://127.0.0.1:8000;
    `token` to `$GOVSTORE_TOKEN`. `timeout` (seconds) applies to the HTTP client the
    SDK makes; pass `transport` to route requests elsewhere (tests, WSGI), or a whole
    `http_client`, which the SDK then uses as it is and never closes.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        token: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            token=token,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
            transport=transport,
        )
        self.accounts: Accounts[SyncMode] = Accounts(self)
        self.auth: Auth[SyncMode] = Auth(self)
        self.account: CurrentAccount[SyncMode] = CurrentAccount(self)
        self.admin: Admin[SyncMode] = Admin(self)
        self.guidelines: Guidelines[SyncMode] = Guidelines(self)
        self.schemas: Schemas[SyncMode] = Schemas(self)
        self.scopes: Scopes[SyncMode] = Scopes(self)
        self.kitemark_schemes: KitemarkSchemes[SyncMode] = KitemarkSchemes(self)
        self.organisations: Organisations[SyncMode] = Organisations(self)
        self.services: Services[SyncMode] = Services(self)
        self.releases: Releases[SyncMode] = Releases(self)
        self.checks: Checks[SyncMode] = Checks(self)
        self.review: Review[SyncMode] = Review(self)
        self.kitemarks: Kitemarks[SyncMode] = Kitemarks(self)
        self.scope_grants: ScopeGrants[SyncMode] = ScopeGrants(self)
        self.catalogue: Catalogue[SyncMode] = Catalogue(self)
        self.complaints: Complaints[SyncMode] = Complaints(self)
        self.me: Me[SyncMode] = Me(self)
        self.well_known: WellKnown[SyncMode] = WellKnown(self)
        self.transparency: Transparency[SyncMode] = Transparency(self)


class AsyncClient(AsyncAPIClient):
    """An asynchronous GovStore API client; the same surface as `Client`, awaited.

    Configured like `Client`; `transport` takes an `httpx.AsyncBaseTransport`, such
    as `httpx.ASGITransport(app=...)` to call an app in-process.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        token: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            token=token,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
            transport=transport,
        )
        self.accounts: Accounts[AsyncMode] = Accounts(self)
        self.auth: Auth[AsyncMode] = Auth(self)
        self.account: CurrentAccount[AsyncMode] = CurrentAccount(self)
        self.admin: Admin[AsyncMode] = Admin(self)
        self.guidelines: Guidelines[AsyncMode] = Guidelines(self)
        self.schemas: Schemas[AsyncMode] = Schemas(self)
        self.scopes: Scopes[AsyncMode] = Scopes(self)
        self.kitemark_schemes: KitemarkSchemes[AsyncMode] = KitemarkSchemes(self)
        self.organisations: Organisations[AsyncMode] = Organisations(self)
        self.services: Services[AsyncMode] = Services(self)
        self.releases: Releases[AsyncMode] = Releases(self)
        self.checks: Checks[AsyncMode] = Checks(self)
        self.review: Review[AsyncMode] = Review(self)
        self.kitemarks: Kitemarks[AsyncMode] = Kitemarks(self)
        self.scope_grants: ScopeGrants[AsyncMode] = ScopeGrants(self)
        self.catalogue: Catalogue[AsyncMode] = Catalogue(self)
        self.complaints: Complaints[AsyncMode] = Complaints(self)
        self.me: Me[AsyncMode] = Me(self)
        self.well_known: WellKnown[AsyncMode] = WellKnown(self)
        self.transparency: Transparency[AsyncMode] = Transparency(self)
