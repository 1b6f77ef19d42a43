"""Admin calls: accounts and their staff roles, and departments' data APIs."""

from __future__ import annotations

from collections.abc import Sequence

from .._base_client import BaseClient
from .._models import Account, DataApiCredentials
from .._pagination import PageSpec
from .._request import RequestSpec, parse_model, path, without_none
from ._core import M, Resource, endpoint, paginated


class AdminAccounts(Resource[M]):
    """`/v1/admin/accounts`: every account, for managing staff."""

    @paginated
    def list(
        self, *, role: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> PageSpec[Account]:
        """Every account; with `role` (`citizen`, `provider`, `reviewer`, `admin`) only those."""
        return PageSpec(
            "/v1/admin/accounts",
            Account,
            params=without_none(role=role),
            limit=limit,
            cursor=cursor,
        )


class DataApis(Resource[M]):
    """`/v1/admin/data-apis`: resource servers that introspect citizens' tokens."""

    @endpoint
    def create(self, name: str, data_owner: str) -> RequestSpec[DataApiCredentials]:
        """Register a data API; its `client_secret` is shown this once only."""
        return RequestSpec(
            "POST",
            "/v1/admin/data-apis",
            parse_model(DataApiCredentials),
            json={"name": name, "data_owner": data_owner},
            creates=True,
        )

    @paginated
    def list(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> PageSpec[DataApiCredentials]:
        """Every registered data API, without its secret."""
        return PageSpec("/v1/admin/data-apis", DataApiCredentials, limit=limit, cursor=cursor)


class Admin(Resource[M]):
    """`/v1/admin`: calls only admins may make."""

    def __init__(self, client: BaseClient) -> None:
        super().__init__(client)
        self.accounts: AdminAccounts[M] = AdminAccounts(client)
        self.data_apis: DataApis[M] = DataApis(client)

    @endpoint
    def set_roles(self, account_id: str, roles: Sequence[str]) -> RequestSpec[Account]:
        """Set an account's staff roles (`reviewer`, `admin`); an empty list removes them."""
        return RequestSpec(
            "POST",
            path("/v1/admin/accounts/{}/roles", account_id),
            parse_model(Account),
            json={"roles": list(roles)},
        )
