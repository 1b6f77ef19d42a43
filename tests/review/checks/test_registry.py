from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from testkit import FIXTURES

import marketplace
import review.checks
from review.checks import REGISTRY, Check, CheckContext, ConfusableIndex, Issue, ScopeInfo, register

CHECK_IDS = {
    "data-uses-complete",
    "lowest-sufficient-tier",
    "retention-bounds",
    "https-only",
    "security-contact",
    "accessibility-statement",
    "clinical-safety",
    "name-not-confusable",
    "prohibited-terms",
}
DEMO = json.loads((Path(marketplace.__file__).parent / "demo" / "data.json").read_text())
DEMO_SERVICES = [
    (service["slug"], service["manifest"])
    for organisation in DEMO["organisations"]
    for service in organisation["services"]
]
VALID_FIXTURES = sorted((FIXTURES / "manifests" / "valid").glob("*.json"))


def _demo_scopes() -> dict[str, ScopeInfo]:
    return {
        scope["name"]: ScopeInfo(
            name=scope["name"],
            tier=scope["tier"],
            sensitivity=scope["sensitivity"],
            data_owner=scope["data_owner"],
        )
        for scope in DEMO["scopes"]
    }


def _run_all(ctx: CheckContext) -> list[tuple[str, str]]:
    found = []
    for check in REGISTRY.values():
        if not check.applies(ctx):
            continue
        issues = check.run(ctx)
        for issue in issues:
            assert isinstance(issue, Issue)
            assert issue.message and issue.fix
            _assert_resolves(ctx.manifest, issue.pointer)
            found.append((check.id, issue.pointer))
    return found


def _assert_resolves(document: Any, pointer: str) -> None:
    """Every pointer names a place in the manifest: an existing value, or a missing member."""
    assert pointer.startswith("/"), pointer
    parts = pointer[1:].split("/")
    for position, part in enumerate(parts):
        last = position == len(parts) - 1
        if isinstance(document, list):
            document = document[int(part)]
        elif isinstance(document, dict):
            if last and part not in document:
                return
            document = document[part]
        else:
            pytest.fail(f"{pointer} goes inside a {type(document).__name__}")


def test_every_check_id_is_registered_once():
    assert set(REGISTRY) == CHECK_IDS
    for check_id, check in REGISTRY.items():
        assert isinstance(check, Check)
        assert check.id == check_id
        assert check.title and check.description
        assert callable(check.run) and callable(check.applies)


def test_registering_an_id_twice_is_refused():
    with pytest.raises(ValueError, match="https-only"):
        register(REGISTRY["https-only"])


def test_the_package_exports_what_the_runner_needs():
    for name in (
        "REGISTRY",
        "Check",
        "CheckContext",
        "ConfusableIndex",
        "Issue",
        "NameIndex",
        "Result",
        "ScopeInfo",
    ):
        assert name in review.checks.__all__
        assert hasattr(review.checks, name)
    assert set(review.checks.__all__) <= set(dir(review.checks))


@pytest.mark.parametrize("path", VALID_FIXTURES, ids=lambda path: path.stem)
def test_every_check_runs_on_every_valid_fixture(path, scopes):
    manifest = json.loads(path.read_text())
    names = ConfusableIndex((slug, service["name"]) for slug, service in DEMO_SERVICES)
    for sandbox in (False, True):
        ctx = CheckContext(
            manifest=manifest, service_id="svc-new", scopes=scopes, names=names, sandbox=sandbox
        )
        _run_all(ctx)


def test_every_check_runs_on_odd_manifests(scopes):
    names = ConfusableIndex()
    for manifest in (
        {},
        {"data_uses": "none", "redirect_uris": "https://a.example", "clinical_safety": "yes"},
        {"category": "health", "clinical_safety": "yes", "security_contact": ["x"]},
        {
            "category": ["health"],
            "name": "!!!",
            "summary": None,
            "website_url": {"href": "https://a.example"},
            "data_uses": [
                {
                    "scope": ["income.read"],
                    "purpose": ["eligibility_check"],
                    "lawful_basis": {},
                    "retention_days": [],
                    "optional": "yes",
                    "purpose_description": 12,
                }
            ],
        },
        {"data_uses": [None, 3, {"scope": 7, "retention_days": "forever"}], "name": 42},
    ):
        ctx = CheckContext(manifest=manifest, service_id="svc-new", scopes=scopes, names=names)
        _run_all(ctx)


# Demo data that breaks a rule as it stands: the housing register keeps its eligibility answers
# for 90 days, and the bound is 30. Fixing the demo needs no change here; a new fault fails.
KNOWN_DEMO_FAULTS = {
    ("fenmoor-housing-register", "retention-bounds", "/data_uses/0/retention_days"),
    ("fenmoor-housing-register", "retention-bounds", "/data_uses/1/retention_days"),
}


def test_the_demo_services_pass_every_check_but_their_known_faults():
    scopes = _demo_scopes()
    names = ConfusableIndex((slug, manifest["name"]) for slug, manifest in DEMO_SERVICES)
    found = set()
    for slug, manifest in DEMO_SERVICES:
        ctx = CheckContext(manifest=manifest, service_id=slug, scopes=scopes, names=names)
        found.update((slug, check_id, pointer) for check_id, pointer in _run_all(ctx))
    assert found <= KNOWN_DEMO_FAULTS
