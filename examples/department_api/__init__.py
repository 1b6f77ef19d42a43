"""An example department data API that checks GovStore access tokens by introspection."""

from __future__ import annotations

from examples.department_api.app import create_app

__all__ = ["create_app"]
