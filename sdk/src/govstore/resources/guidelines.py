"""The rules services are held to: guideline versions, the manifest schema, scopes, kitemarks.

Admins write them; anyone may read them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._models import Guideline, GuidelineVersion, GuidelineVersionSummary, KitemarkScheme, Scope
from .._pagination import PageSpec
from .._request import RequestSpec, parse_json_object, parse_model, path, without_none
from ._core import M, Resource, endpoint, paginated


class Guidelines(Resource[M]):
    """`/v1/guidelines`: versioned guidelines; a published version never changes."""

    @endpoint
    def create(
        self, version: str, title: str, guidelines: Sequence[Guideline | Mapping[str, Any]]
    ) -> RequestSpec[GuidelineVersion]:
        """Create a draft version, such as `2026.2`; it can be revised until published."""
        body = {"version": version, "title": title, "guidelines": _guidelines_json(guidelines)}
        return RequestSpec(
            "POST", "/v1/guidelines", parse_model(GuidelineVersion), json=body, creates=True
        )

    @endpoint
    def revise(
        self, version: str, title: str, guidelines: Sequence[Guideline | Mapping[str, Any]]
    ) -> RequestSpec[GuidelineVersion]:
        """Replace a draft's title and guidelines; a published version raises `ConflictError`."""
        body = {"title": title, "guidelines": _guidelines_json(guidelines)}
        return RequestSpec(
            "PUT", path("/v1/guidelines/{}", version), parse_model(GuidelineVersion), json=body
        )

    @endpoint
    def publish(self, version: str) -> RequestSpec[GuidelineVersion]:
        """Publish a draft version; from then on it is immutable."""
        return RequestSpec(
            "POST", path("/v1/guidelines/{}/publish", version), parse_model(GuidelineVersion)
        )

    @endpoint
    def current(self) -> RequestSpec[GuidelineVersion]:
        """The version releases are reviewed against now."""
        return RequestSpec("GET", "/v1/guidelines/current", parse_model(GuidelineVersion))

    @endpoint
    def get(self, version: str) -> RequestSpec[GuidelineVersion]:
        """One version, draft or published."""
        return RequestSpec("GET", path("/v1/guidelines/{}", version), parse_model(GuidelineVersion))

    @paginated
    def list(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> PageSpec[GuidelineVersionSummary]:
        """Published versions, newest first (admins also see drafts); `get` one for its rules."""
        return PageSpec("/v1/guidelines", GuidelineVersionSummary, limit=limit, cursor=cursor)


def _guidelines_json(guidelines: Sequence[Guideline | Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        item.model_dump(mode="json") if isinstance(item, Guideline) else dict(item)
        for item in guidelines
    ]


class Schemas(Resource[M]):
    """`/v1/schemas`: JSON Schemas (draft 2020-12) of what providers submit."""

    @endpoint
    def service_manifest(self) -> RequestSpec[dict[str, Any]]:
        """The JSON Schema every release's manifest must meet."""
        return RequestSpec("GET", "/v1/schemas/service-manifest", parse_json_object)


class Scopes(Resource[M]):
    """`/v1/scopes`: the data scopes services may ask citizens for."""

    @endpoint
    def create(
        self,
        name: str,
        title: str,
        description: str,
        tier: str,
        sensitivity: str,
        data_owner: str,
    ) -> RequestSpec[Scope]:
        """Define a scope: `tier` is `status`, `summary` or `record`; `sensitivity` `low`/`high`."""
        body = {
            "name": name,
            "title": title,
            "description": description,
            "tier": tier,
            "sensitivity": sensitivity,
            "data_owner": data_owner,
        }
        return RequestSpec("POST", "/v1/scopes", parse_model(Scope), json=body, creates=True)

    @paginated
    def list(
        self,
        *,
        tier: str | None = None,
        data_owner: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> PageSpec[Scope]:
        """Every scope, by name; or only those of one `tier`, or one `data_owner`."""
        return PageSpec(
            "/v1/scopes",
            Scope,
            params=without_none(tier=tier, data_owner=data_owner),
            limit=limit,
            cursor=cursor,
        )


class KitemarkSchemes(Resource[M]):
    """`/v1/kitemark-schemes`: what a kitemark certifies and for how long."""

    @endpoint
    def create(
        self,
        slug: str,
        title: str,
        description: str,
        criteria: Sequence[str],
        validity_days: int,
    ) -> RequestSpec[KitemarkScheme]:
        """Define a scheme; `criteria` are the guideline codes a service must pass."""
        body = {
            "slug": slug,
            "title": title,
            "description": description,
            "criteria": list(criteria),
            "validity_days": validity_days,
        }
        return RequestSpec(
            "POST", "/v1/kitemark-schemes", parse_model(KitemarkScheme), json=body, creates=True
        )

    @paginated
    def list(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> PageSpec[KitemarkScheme]:
        """Every scheme."""
        return PageSpec("/v1/kitemark-schemes", KitemarkScheme, limit=limit, cursor=cursor)
