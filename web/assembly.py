"""The web pages' routes and the static files they need (GOV.UK Frontend from npm, our one script)."""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from marketplace.platform import Platform
from marketplace.settings import Settings
from web import account, accounts, catalogue, provider, reviewer
from web.pages import render_for
from web.templating import HERE

logger = logging.getLogger("govstore.web")
# `npm ci` at set-up puts GOV.UK Frontend here (package.json pins the version).
DEFAULT_FRONTEND = HERE.parent / "node_modules" / "govuk-frontend" / "dist" / "govuk"


def frontend_dir(settings: Settings) -> Path:
    return settings.frontend_dir or DEFAULT_FRONTEND


def install_web(platform: Platform) -> None:
    """Pages other packages serve (the OAuth consent screen) render through the web layout."""
    platform.services["page_renderer"] = render_for


def web_routes(settings: Settings) -> list[BaseRoute]:
    built = frontend_dir(settings)
    if not (built / "govuk-frontend.min.css").is_file():
        logger.warning("GOV.UK Frontend is missing at %s: run `make install` (npm ci)", built)
    return [
        Mount("/assets", StaticFiles(directory=built / "assets", check_dir=False), name="assets"),
        Mount("/frontend", StaticFiles(directory=built, check_dir=False), name="frontend"),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        *accounts.routes(),
        *catalogue.routes(),
        *account.routes(),
        *provider.routes(),
        *reviewer.routes(),
    ]
