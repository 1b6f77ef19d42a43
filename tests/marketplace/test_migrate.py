"""Migrations: one head, and the migrated schema is exactly the models'."""

from __future__ import annotations

from marketplace.migrate import heads, schema_differences
from marketplace.settings import Settings


def test_single_head(base_settings: Settings) -> None:
    assert len(heads(base_settings)) == 1


async def test_migrated_schema_matches_models(base_settings: Settings) -> None:
    differences = await schema_differences(base_settings)
    assert differences == [], f"models and migrations disagree: {differences}"
