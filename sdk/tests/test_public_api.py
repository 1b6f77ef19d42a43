"""The package's public names: everything public is in `__all__`, and nothing else is."""

from __future__ import annotations

import tomllib
import types
from pathlib import Path

import govstore
from govstore import (
    _client,
    _credentials,
    _exceptions,
    _models,
    _pagination,
    _transparency,
    _webhooks,
    oauth,
)

PRIVATE_MODULES = [
    _client,
    _credentials,
    _exceptions,
    _models,
    _pagination,
    _transparency,
    _webhooks,
    oauth,
]


def test_all_matches_the_public_names() -> None:
    public = {
        name
        for name, value in vars(govstore).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }

    assert public | {"__version__"} == set(govstore.__all__)
    assert len(govstore.__all__) == len(set(govstore.__all__))


def test_every_private_module_export_is_reexported() -> None:
    for module in PRIVATE_MODULES:
        for name in module.__all__:
            assert name in govstore.__all__, f"{module.__name__}.{name}"
            assert getattr(govstore, name) is getattr(module, name)


def test_public_objects_name_the_package_as_their_home() -> None:
    for name in govstore.__all__:
        if name != "__version__":
            assert getattr(govstore, name).__module__ == "govstore", name


def test_version_matches_the_package_metadata() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())

    assert govstore.__version__ == pyproject["project"]["version"]


def test_the_sdk_imports_nothing_from_the_server() -> None:
    source = Path(govstore.__file__).parent
    for path in source.rglob("*.py"):
        text = path.read_text()
        for package in ("marketplace", "review", "kitemarks"):
            assert f"import {package}" not in text, path
            assert f"from {package}" not in text, path
