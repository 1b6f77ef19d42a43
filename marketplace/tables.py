"""Imports every table module so SQLModel's metadata is complete (for Alembic and the schema check)."""

from __future__ import annotations

from catalogue import models as catalogue_models  # noqa: F401
from kitemarks import models as kitemark_models  # noqa: F401
from marketplace import events, idempotency  # noqa: F401
from marketplace.accounts import models as account_models  # noqa: F401
from marketplace.db import metadata
from marketplace.guidelines import models as guideline_models  # noqa: F401
from marketplace.organisations import models as organisation_models  # noqa: F401
from marketplace.releases import models as release_models  # noqa: F401
from marketplace.webhooks import models as webhook_models  # noqa: F401
from review import models as review_models  # noqa: F401
from transparency import models as transparency_models  # noqa: F401

__all__ = ["metadata"]
