"""Provider organisations and their members."""

from __future__ import annotations

from .._models import Organisation, OrganisationSummary
from .._pagination import PageSpec
from .._request import RequestSpec, parse_model, path, without_none
from ._core import M, Resource, endpoint, paginated


class Organisations(Resource[M]):
    """`/v1/organisations`: a provider's organisations; only members see one."""

    @endpoint
    def create(
        self, name: str, contact_email: str, company_number: str | None = None
    ) -> RequestSpec[Organisation]:
        """Create an organisation; the caller becomes its owner."""
        body = without_none(name=name, contact_email=contact_email, company_number=company_number)
        return RequestSpec(
            "POST", "/v1/organisations", parse_model(Organisation), json=body, creates=True
        )

    @endpoint
    def get(self, org_id: str) -> RequestSpec[Organisation]:
        """One organisation and its members."""
        return RequestSpec("GET", path("/v1/organisations/{}", org_id), parse_model(Organisation))

    @endpoint
    def add_member(self, org_id: str, email: str, role: str) -> RequestSpec[Organisation]:
        """Add a registered provider account as an `owner` or `developer`.

        Returns the organisation with all its members, the new one included.
        """
        return RequestSpec(
            "POST",
            path("/v1/organisations/{}/members", org_id),
            parse_model(Organisation),
            json={"email": email, "role": role},
            creates=True,
        )

    @paginated
    def list(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> PageSpec[OrganisationSummary]:
        """The organisations the caller belongs to, with the caller's role; `get` one for more."""
        return PageSpec("/v1/organisations", OrganisationSummary, limit=limit, cursor=cursor)
