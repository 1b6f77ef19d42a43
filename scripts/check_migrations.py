"""Fail when the migrations have more than one head or do not produce the models' schema."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from marketplace.migrate import heads, schema_differences, upgrade
from marketplace.settings import Settings


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), database_url=None, redis_url=None)
        found = heads(settings)
        if len(found) != 1:
            print(f"migrations must have exactly one head, found {found}", file=sys.stderr)
            return 1
        upgrade(settings)
        differences = asyncio.run(schema_differences(settings))
    if differences:
        print("the migrated schema differs from the models; write a migration:", file=sys.stderr)
        for difference in differences:
            print(f"  {difference}", file=sys.stderr)
        return 1
    print(f"migrations OK: one head ({found[0]}), schema matches the models")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
