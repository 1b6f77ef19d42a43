"""The assembly: every router, middleware and operational endpoint in one Starlette app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalogue.assembly import start_catalogue
from catalogue.views import me_router as catalogue_me_router
from catalogue.views import provider_router as catalogue_provider_router
from catalogue.views import router as catalogue_router
from kitemarks.assembly import start_kitemarks
from kitemarks.oauth.views import oauth_routes
from kitemarks.views import me_router, oauth_router
from kitemarks.views import router as kitemarks_router
from marketplace import errors, operations
from marketplace.accounts import services as account_services
from marketplace.accounts.views import router as accounts_router
from marketplace.guidelines.views import admin_router
from marketplace.guidelines.views import router as guidelines_router
from marketplace.openapi import build_openapi
from marketplace.organisations.views import router as organisations_router
from marketplace.platform import Platform
from marketplace.problems import (
    client_disconnect_handler,
    domain_error_handler,
    http_exception_handler,
)
from marketplace.ratelimit import RateLimitMiddleware
from marketplace.releases.views import router as services_router
from marketplace.releases.views import schema_router
from marketplace.routing import Operation, starlette_routes
from marketplace.settings import Settings, get_settings
from marketplace.webhooks.views import router as webhooks_router
from marketplace.worker import build_platform
from review.views import provider_router as review_provider_router
from review.views import router as review_router
from transparency.assembly import start_transparency
from transparency.views import me_router as transparency_me_router
from transparency.views import router as transparency_router
from web.assembly import install_web, web_routes

logger = logging.getLogger("govstore")

ROUTERS = [
    accounts_router,
    admin_router,
    guidelines_router,
    schema_router,
    organisations_router,
    services_router,
    webhooks_router,
    review_provider_router,
    review_router,
    kitemarks_router,
    oauth_router,
    me_router,
    catalogue_router,
    catalogue_provider_router,
    catalogue_me_router,
    transparency_router,
    transparency_me_router,
]


def all_operations() -> list[Operation]:
    return [op for router in ROUTERS for op in router.operations]


class SecurityHeadersMiddleware:
    """Headers every response carries: no sniffing, no framing, no referrer leaks."""

    HEADERS = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
    ]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    h for h in self.HEADERS if h[0] not in names
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def bootstrap_admin(platform: Platform) -> None:
    settings = platform.settings
    if not (settings.bootstrap_admin_email and settings.bootstrap_admin_password):
        return
    async with platform.db.transaction() as session:
        account, created = await account_services.ensure_admin(
            platform,
            session,
            email=settings.bootstrap_admin_email,
            password=settings.bootstrap_admin_password,
        )
    logger.info("bootstrap admin %s %s", account.id, "created" if created else "present")


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    platform = build_platform(settings)
    install_web(platform)
    ops = all_operations()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        platform.sealer.load()
        await start_kitemarks(platform)
        await start_catalogue(platform)
        await start_transparency(platform)
        await bootstrap_admin(platform)
        await platform.jobs.start()
        try:
            yield
        finally:
            await platform.close()

    routes = [
        # The OAuth endpoints are the hottest paths: matched first.
        *oauth_routes(),
        *starlette_routes(ops),
        Route("/healthz", operations.healthz, methods=["GET"], include_in_schema=False),
        Route("/readyz", operations.readyz, methods=["GET"], include_in_schema=False),
        Route("/metrics", operations.metrics, methods=["GET"], include_in_schema=False),
        Route("/openapi.json", operations.openapi_json, methods=["GET"], include_in_schema=False),
        Route("/docs", operations.docs, methods=["GET"], include_in_schema=False),
        # The web pages (GOV.UK Design System); their paths never collide with the API's.
        *web_routes(settings),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeadersMiddleware),
            Middleware(RateLimitMiddleware, store=platform.counters, settings=settings),
        ],
        exception_handlers={
            HTTPException: http_exception_handler,
            errors.DomainError: domain_error_handler,
            ClientDisconnect: client_disconnect_handler,
        },
        lifespan=lifespan,
    )
    app.state.platform = platform
    app.state.operations = ops
    app.state.openapi = build_openapi(ops)
    return app
