"""The citizen's own records: the access log, the export of everything held, and erasure."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogue.feedback import responses_of
from catalogue.models import Complaint, Rating
from kitemarks import consents
from kitemarks.models import AccessEvent, Consent, ConsentStatus
from marketplace import errors
from marketplace.accounts.models import AccessToken, Account, TokenKind
from marketplace.auth import Principal
from marketplace.db import utcnow
from marketplace.events import record_event
from marketplace.guidelines.models import DataApi
from marketplace.organisations.models import MemberRole, Membership, Organisation
from marketplace.pagination import decode_cursor, encode_cursor
from marketplace.passwords import Passwords
from marketplace.rawdb import RawReader, parse_json, parse_timestamp
from marketplace.releases.models import Service
from transparency.pseudonyms import forget_citizen

# What an erased citizen's access events point at instead of the account: nothing.
ERASED = "erased"
EXPORT_FORMAT = "govstore-citizen-export/1"


def access_log_statement(
    account_id: str,
    service: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Any:
    """The citizen's access events with their service, consent and data API, for paging."""
    statement = (
        select(AccessEvent, Service, DataApi, Consent)
        .join(Service, col(Service.id) == col(AccessEvent.service_id))
        .join(DataApi, col(DataApi.id) == col(AccessEvent.data_api_id), isouter=True)
        .join(Consent, col(Consent.id) == col(AccessEvent.consent_id), isouter=True)
        .where(AccessEvent.account_id == account_id)
    )
    if service is not None:
        statement = statement.where(
            sa.or_(col(Service.id) == service, col(Service.slug) == service)
        )
    if since is not None:
        statement = statement.where(col(AccessEvent.created_at) >= since)
    if until is not None:
        statement = statement.where(col(AccessEvent.created_at) < until)
    return statement


# The log page through the driver: newest first by (created_at, id), which the index on
# (account_id, created_at) yields in order (SQLite keeps the row id in every index entry;
# PostgreSQL sorts the few ties), so a page costs the same at any log size.
# SQLite hands over the stored text of the time and of the consent's data uses (this process
# turns them into ISO 8601 and the scope's title and purpose); PostgreSQL, on its own core,
# writes the ISO time and picks the title and purpose itself, so the server's loop decodes
# neither datetimes nor whole JSON documents.
_LOG_COLUMNS = {
    True: "e.created_at, c.uses, NULL",
    False: (
        """to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), """
        "u.value->>'title', u.value->>'purpose_description'"
    ),
}
_LOG_USE = {
    True: "",
    False: (
        " LEFT JOIN LATERAL (SELECT v AS value FROM jsonb_array_elements(c.uses) v"
        " WHERE v->>'scope' = e.scope LIMIT 1) u ON TRUE"
    ),
}
_LOG_SELECT = (
    "SELECT e.id, {columns}, e.scope, e.tier, e.purpose, e.data_api_id, e.case_reference,"
    " e.consent_id, s.id, s.slug, s.name, d.name, d.data_owner"
    " FROM access_events e JOIN services s ON s.id = e.service_id"
    " LEFT JOIN data_apis d ON d.id = e.data_api_id"
    " LEFT JOIN consents c ON c.id = e.consent_id{use}"
    " WHERE e.account_id = ?"
)


@lru_cache(maxsize=4096)
def _uses_by_scope(uses: str | None) -> dict[str, dict[str, Any]]:
    """A consent's data uses (as stored, JSON text) by scope; parsed once per distinct text."""
    return {str(u.get("scope")): u for u in parse_json(uses) or [] if isinstance(u, dict)}


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _stored_iso(value: Any) -> str:
    """A timestamp as the driver gives it, as ISO 8601 (SQLite's naive UTC text needs no parse)."""
    if isinstance(value, str):
        return value.replace(" ", "T", 1) + "Z"
    return _iso(parse_timestamp(value) or utcnow())


async def access_log_page(
    reader: RawReader,
    account_id: str,
    *,
    service: str | None,
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the citizen's access log (lines as the API gives them) and the next cursor."""
    sqlite = reader.is_sqlite
    sql = _LOG_SELECT.format(columns=_LOG_COLUMNS[sqlite], use=_LOG_USE[sqlite])
    params: list[Any] = [account_id]
    if service is not None:
        sql += " AND (s.id = ? OR s.slug = ?)"
        params += [service, service]
    if since is not None:
        sql += " AND e.created_at >= ?"
        params.append(reader.timestamp(since))
    if until is not None:
        sql += " AND e.created_at < ?"
        params.append(reader.timestamp(until))
    if cursor is not None:
        at, event_id = decode_cursor(cursor, 2)
        try:
            after = datetime.fromisoformat(at) if isinstance(at, str) else None
        except ValueError:
            after = None
        if after is None or after.tzinfo is None or not isinstance(event_id, int):
            raise errors.MalformedRequest(
                "invalid cursor",
                [errors.FieldError("", "not a cursor from this list", parameter="cursor")],
            )
        # The first condition bounds the index range; the second steps past the ties.
        sql += " AND e.created_at <= ? AND (e.created_at < ? OR e.id < ?)"
        params += [reader.timestamp(after), reader.timestamp(after), event_id]
    # The limit is written into the statement (a validated int): with it as a parameter,
    # PostgreSQL plans the prepared statement afresh every time (more than the read costs).
    sql += f" ORDER BY e.created_at DESC, e.id DESC LIMIT {int(limit) + 1}"
    rows = await reader.fetchall(sql, params)
    lines = []
    for row in rows[:limit]:
        # The third column is the consent's data uses on SQLite, the scope's title on PostgreSQL.
        (event_id, at, uses_or_title, purpose_description, scope, tier, purpose, api_id, case,
         consent_id, service_id, slug, name, api_name, data_owner) = row  # fmt: skip
        title = uses_or_title
        if sqlite:
            at = _stored_iso(at)
            use = _uses_by_scope(uses_or_title).get(scope, {})
            title, purpose_description = use.get("title"), use.get("purpose_description")
        lines.append(
            {
                "id": str(event_id),
                "at": at,
                "service": {"id": service_id, "slug": slug, "name": name},
                "scope": scope,
                "scope_title": title or scope,
                "tier": tier,
                "purpose": purpose,
                "purpose_description": purpose_description or "",
                "data_api": {"id": api_id, "name": api_name or "", "data_owner": data_owner or ""},
                "case_reference": case,
                "consent_id": consent_id,
            }
        )
    next_cursor = None
    if len(rows) > limit:
        last = lines[limit - 1]
        next_cursor = encode_cursor([last["at"], int(last["id"])])
    return lines, next_cursor


def access_line(
    event: AccessEvent, service: Service, api: DataApi | None, consent: Consent | None
) -> dict[str, Any]:
    """One line of the log: who read what, at which tier, why, through which data API, when."""
    use = next((u for u in (consent.uses if consent else []) if u.get("scope") == event.scope), {})
    return {
        "id": str(event.id),
        "at": event.created_at,
        "service": {"id": service.id, "slug": service.slug, "name": service.name},
        "scope": event.scope,
        "scope_title": use.get("title", event.scope),
        "tier": event.tier,
        "purpose": event.purpose,
        "purpose_description": use.get("purpose_description", ""),
        "data_api": {
            "id": event.data_api_id,
            "name": api.name if api else "",
            "data_owner": api.data_owner if api else "",
        },
        "case_reference": event.case_reference,
        "consent_id": event.consent_id,
    }


async def export(session: AsyncSession, principal: Principal) -> dict[str, Any]:
    """Everything held about the caller, as one document (docs/citizen-data.md, field by field)."""
    account = await session.get(Account, principal.account_id)
    if account is None:
        raise errors.NotFound("no such account")
    tokens = (
        await session.exec(
            select(AccessToken)
            .where(AccessToken.account_id == account.id)
            .order_by(col(AccessToken.created_at))
        )
    ).all()
    memberships = (
        await session.exec(
            select(Membership, Organisation)
            .join(Organisation, col(Organisation.id) == col(Membership.organisation_id))
            .where(Membership.account_id == account.id)
        )
    ).all()
    consent_rows = (
        await session.exec(
            select(Consent, Service)
            .join(Service, col(Service.id) == col(Consent.service_id))
            .where(Consent.account_id == account.id)
            .order_by(col(Consent.granted_at))
        )
    ).all()
    log_rows = (
        await session.exec(
            access_log_statement(account.id, None, None, None).order_by(col(AccessEvent.id))
        )
    ).all()
    ratings = (
        await session.exec(
            select(Rating, Service)
            .join(Service, col(Service.id) == col(Rating.service_id))
            .where(Rating.account_id == account.id)
            .order_by(col(Rating.created_at))
        )
    ).all()
    complaint_rows = (
        await session.exec(
            select(Complaint, Service)
            .join(Service, col(Service.id) == col(Complaint.service_id))
            .where(Complaint.account_id == account.id)
            .order_by(col(Complaint.created_at))
        )
    ).all()
    answers = await responses_of(session, [c.id for c, _ in complaint_rows])
    now = utcnow()
    return {
        "format": EXPORT_FORMAT,
        "exported_at": now,
        "account": {
            "id": account.id,
            "email": account.email,
            "display_name": account.display_name,
            "roles": account.roles,
            "created_at": account.created_at,
            "updated_at": account.updated_at,
        },
        "sign_ins_and_api_tokens": [
            {
                "id": t.id,
                "kind": t.kind.value,
                "name": t.name,
                "prefix": t.prefix,
                "scopes": t.scopes,
                "created_at": t.created_at,
                "expires_at": t.expires_at,
                "revoked_at": t.revoked_at,
            }
            for t in tokens
        ],
        "organisations": [{"id": o.id, "name": o.name, "role": m.role} for m, o in memberships],
        "consents": [
            {
                "id": c.id,
                "service": {"id": s.id, "slug": s.slug, "name": s.name},
                "scopes": c.scopes,
                "uses": c.uses,
                "status": (
                    ConsentStatus.EXPIRED.value
                    if c.status is ConsentStatus.ACTIVE and c.expires_at <= now
                    else c.status.value
                ),
                "granted_at": c.granted_at,
                "expires_at": c.expires_at,
                "ended_at": c.ended_at,
                "end_reason": c.end_reason,
                "last_access_at": c.last_access_at,
            }
            for c, s in consent_rows
        ],
        "access_log": [access_line(*row) for row in log_rows],
        "ratings": [
            {
                "id": r.id,
                "service": {"id": s.id, "slug": s.slug, "name": s.name},
                "stars": r.stars,
                "comment": r.comment,
                "created_at": r.created_at,
                "updated_at": r.updated_at,
            }
            for r, s in ratings
        ],
        "complaints": [
            {
                "id": c.id,
                "service": {"id": s.id, "slug": s.slug, "name": s.name},
                "category": c.category.value,
                "description": c.description,
                "status": c.status.value,
                "resolution": c.resolution,
                "created_at": c.created_at,
                "resolved_at": c.resolved_at,
                "responses": [
                    {"by": a.author_role, "message": a.message, "at": a.created_at}
                    for a in answers[c.id]
                ],
            }
            for c, s in complaint_rows
        ],
    }


async def erase(
    session: AsyncSession, passwords: Passwords, principal: Principal, password: str
) -> None:
    """Erase the caller: consents revoked (their tokens die, services are told), personal data
    deleted, ratings and complaints kept without the person, audit and log entries kept but no
    longer linkable to anyone."""
    if principal.token_kind is not TokenKind.SESSION:
        raise errors.Forbidden("sign in to erase your account; an API token cannot")
    account = await session.get(Account, principal.account_id, with_for_update=True)
    if account is None:
        raise errors.NotFound("no such account")
    if not await passwords.verify(account.password_hash, password):
        raise errors.Forbidden("the password is not right; erasing an account needs it again")
    owned = (
        await session.exec(
            select(Membership.organisation_id)
            .where(Membership.account_id == account.id)
            .where(Membership.role == MemberRole.OWNER)
        )
    ).all()
    for organisation_id in owned:
        others = (
            await session.exec(
                select(Membership.id)
                .where(Membership.organisation_id == organisation_id)
                .where(Membership.role == MemberRole.OWNER)
                .where(Membership.account_id != account.id)
                .limit(1)
            )
        ).first()
        if others is None:
            raise errors.Conflict(
                f"you are the only owner of organisation {organisation_id}: "
                "add another owner before erasing your account"
            )
    for consent in (
        await session.exec(
            select(Consent)
            .where(Consent.account_id == account.id)
            .where(Consent.status == ConsentStatus.ACTIVE)
        )
    ).all():
        await consents.revoke_consent(session, principal, consent.id)
    await session.flush()
    # The transparency log keeps its entries; deleting the citizen's key unlinks them for good.
    await forget_citizen(session, account.id)
    # Kept, unlinked: the access events (a department's audit), ratings and complaints.
    await session.exec(
        sa.update(AccessEvent)
        .where(col(AccessEvent.account_id) == account.id)
        .values(account_id=ERASED)
    )
    await session.exec(
        sa.update(Rating).where(col(Rating.account_id) == account.id).values(account_id=None)
    )
    await session.exec(
        sa.update(Complaint).where(col(Complaint.account_id) == account.id).values(account_id=None)
    )
    # The account goes, and with it (by foreign key) its sign-ins, API tokens, memberships,
    # consents, their codes and OAuth tokens.
    await session.delete(account)
    record_event(
        session,
        "account:account:erased",
        subject_type="account",
        subject_id=account.id,
        actor_id=None,
        body={},
    )
