"""Building check contexts: a small scope catalogue, a few listed names, a manifest to start from."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from testkit import manifest_fixture

from review.checks import CheckContext, ConfusableIndex, ScopeInfo


def _scope(name: str, tier: str, owner: str, sensitivity: str = "low") -> ScopeInfo:
    return ScopeInfo(name=name, tier=tier, sensitivity=sensitivity, data_owner=owner)


HMRC = "HM Revenue & Customs"
DWP = "Department for Work and Pensions"
NHS = "NHS England"
DVLA = "DVLA"

SCOPES: dict[str, ScopeInfo] = {
    scope.name: scope
    for scope in (
        _scope("income.verify", "status", HMRC),
        _scope("income.read", "record", HMRC, "high"),
        _scope("employment.history.read", "summary", HMRC),
        _scope("benefits.entitlement.verify", "status", DWP),
        _scope("benefits.claims.read", "record", DWP, "high"),
        _scope("health.summary.read", "summary", NHS, "high"),
        _scope("prescriptions.exemption.verify", "status", NHS),
        _scope("driving.age.verify", "status", DVLA),
        _scope("driving.licence.verify", "status", DVLA),
        _scope("driving.licence.read", "record", DVLA, "high"),
        _scope("vehicle.tax.verify", "status", DVLA),
        _scope("land.title.read", "record", "HM Land Registry"),
        _scope("education.enrolment.verify", "status", "Department for Education"),
        _scope("housing.tenancy.verify", "status", "Fenmoor District Council"),
    )
}

LISTED = [
    ("svc-acme", "Acme GP Online"),
    ("svc-warm", "Warm Home Grant Checker"),
    ("svc-flat", "Fix My Flat"),
]

ContextFactory = Callable[..., CheckContext]


@pytest.fixture
def scopes() -> dict[str, ScopeInfo]:
    return SCOPES


@pytest.fixture
def names() -> ConfusableIndex:
    return ConfusableIndex(LISTED)


@pytest.fixture
def context(names: ConfusableIndex) -> ContextFactory:
    """`context(manifest, service_id=..., scopes=..., sandbox=...)`; sandbox follows the manifest."""

    def build(
        manifest: Mapping[str, Any],
        *,
        service_id: str = "svc-new",
        scopes: Mapping[str, ScopeInfo] = SCOPES,
        sandbox: bool | None = None,
    ) -> CheckContext:
        return CheckContext(
            manifest=manifest,
            service_id=service_id,
            scopes=scopes,
            names=names,
            sandbox=bool(manifest.get("sandbox")) if sandbox is None else sandbox,
        )

    return build


def _manifest(fixture: str = "warm-home-grant-checker", **changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(manifest_fixture(fixture))
    for field, value in changes.items():
        if value is None:
            document.pop(field, None)
        else:
            document[field] = value
    return document


def _data_use(**changes: Any) -> dict[str, Any]:
    use: dict[str, Any] = {
        "scope": "income.verify",
        "purpose": "eligibility_check",
        "purpose_description": "Check whether your household income is below the grant limit",
        "lawful_basis": "consent",
        "retention_days": 0,
        "shared_with_third_parties": False,
    }
    for field, value in changes.items():
        if value is None:
            use.pop(field, None)
        else:
            use[field] = value
    return use


@pytest.fixture
def manifest() -> Callable[..., dict[str, Any]]:
    """`manifest(fixture="warm-home-grant-checker", **fields)`: a valid fixture manifest
    with top-level fields replaced (a value of None removes the field)."""
    return _manifest


@pytest.fixture
def data_use() -> Callable[..., dict[str, Any]]:
    """`data_use(**fields)`: a complete data use (income.verify for an eligibility check, kept
    0 days, on consent) with fields replaced (a value of None removes the field)."""
    return _data_use
