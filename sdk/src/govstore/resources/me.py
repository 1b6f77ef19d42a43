"""`/v1/me`: the signed-in citizen's own data: consents, complaints, who read their data, an
export of everything held about them, and erasure."""

from __future__ import annotations

from datetime import datetime

from .._base_client import BaseClient
from .._models import AccessLogEntry, CitizenExport, Complaint, TransparencyEntry
from .._pagination import PageSpec
from .._request import RequestSpec, parse_model, parse_nothing, without_none
from ._core import M, Resource, endpoint, paginated
from .consents import Consents


class Me(Resource[M]):
    """`/v1/me`: the signed-in citizen's own data; `consents` manages their consents."""

    def __init__(self, client: BaseClient) -> None:
        super().__init__(client)
        self.consents: Consents[M] = Consents(client)

    @paginated
    def complaints(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> PageSpec[Complaint]:
        """The citizen's complaints, newest first, each with every response."""
        return PageSpec("/v1/me/complaints", Complaint, limit=limit, cursor=cursor)

    @paginated
    def access_log(
        self,
        *,
        service: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> PageSpec[AccessLogEntry]:
        """Every read of the citizen's data through a consent, newest first.

        `service` (an id or slug) keeps one service's reads; `since` (inclusive) and `until`
        (exclusive) bound them in time, and must be timezone-aware.
        """
        return PageSpec(
            "/v1/me/access-log",
            AccessLogEntry,
            params=without_none(
                service=service, since=_aware("since", since), until=_aware("until", until)
            ),
            limit=limit,
            cursor=cursor,
        )

    @paginated
    def transparency(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> PageSpec[TransparencyEntry]:
        """The citizen's own entries in the transparency log, newest first, with their leaf
        indices: check each with `client.transparency.inclusion_proof`. They name the citizen
        only by a pseudonym (`body["citizen"]`), which erasure makes unlinkable for good."""
        return PageSpec("/v1/me/transparency", TransparencyEntry, limit=limit, cursor=cursor)

    @endpoint
    def export(self) -> RequestSpec[CitizenExport]:
        """Everything GovStore holds about the citizen, as one document (never any secrets):
        account, sign-ins and API tokens, organisations, consents, the whole access log,
        ratings and complaints."""
        return RequestSpec("GET", "/v1/me/export", parse_model(CitizenExport))

    @endpoint
    def erase(self, password: str) -> RequestSpec[None]:
        """Erase the citizen's account, confirmed with their `password`; the client then forgets
        its token.

        Every consent is revoked (services are told, their tokens stop working), the account
        and its sign-ins are deleted; ratings and complaints stay without the person's name.
        Needs a signed-in session, not an API token (`PermissionDeniedError`, as for a wrong
        password); the only owner of an organisation raises `ConflictError` until another
        owner is added. This cannot be undone.
        """

        def forget_token(_: None) -> None:
            self._client.token = None

        return RequestSpec(
            "DELETE", "/v1/me", parse_nothing, json={"password": password}, on_success=forget_token
        )


def _aware(name: str, moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, such as datetime.now(UTC)")
    return moment.isoformat()
