"""What the log records and in which form: entry kinds, canonical bytes, and the outbox writers.

Every state change records an audit event in its transaction (STYLE.md); a listener turns the
events that belong in the log into pending rows just before that transaction commits, so an
entry exists exactly when the change it records does. Data access events do not go through the
ORM: the introspection group commit writes their pending rows in its own batch transaction
(`access_rows`). Bodies name no person: a citizen appears only as the pseudonym the sequencer
puts in `citizen`, and free text a department typed (a case reference) is left out.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from transparency.models import PendingEntry

RELEASE_STATUSES = {"approved", "rejected", "published", "suspended", "withdrawn", "superseded"}
GRANT_ACTIONS = {"granted", "suspended", "reinstated", "revoked", "expired", "superseded"}
CONSENT_ACTIONS = {"granted", "changed", "revoked", "expired"}
ACCESS_KIND = "data.accessed"
_PENDING: sa.Table = PendingEntry.__table__  # type: ignore[attr-defined]


def canonical(value: Any) -> bytes:
    """Canonical JSON: sorted keys, no insignificant whitespace, ASCII only (non-ASCII escaped)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def entry_bytes(kind: str, time: str, body: dict[str, Any]) -> bytes:
    """The bytes a leaf hashes: canonical JSON of {"body", "kind", "time"}."""
    return canonical({"body": body, "kind": kind, "time": time})


def rfc3339(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _pick(body: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: body[name] for name in names if body.get(name) is not None}


def log_entry_of(
    tag: str, subject_id: str, body: dict[str, Any]
) -> tuple[str, dict[str, Any]] | None:
    """The kind and public body for an audit event, or None if the log does not hold it."""
    source, subject, action = tag.split(":")
    if tag == "review:decision:recorded":
        return "release.decision", {
            "release_id": subject_id,
            **_pick(
                body,
                "decision_id",
                "outcome",
                "reason_codes",
                "kitemarks",
                "scopes",
                "needs_second_approval",
            ),
        }
    if tag == "review:decision:second_approval":
        return "release.second_approval", {
            "release_id": subject_id,
            **_pick(body, "decision_id", "outcome"),
        }
    if tag == "release:status:changed" and body.get("to") in RELEASE_STATUSES:
        return "release.status", {
            "release_id": subject_id,
            **_pick(body, "service_id", "from", "to", "action", "actor"),
        }
    if source in {"kitemark", "scope"} and subject == "grant" and action in GRANT_ACTIONS:
        names = ("service_id", "release_id", "scheme", "scope", "tier", "expires_at", "decision_id")
        return f"{source}.{action}", {
            ("kitemark_id" if source == "kitemark" else "scope_grant_id"): subject_id,
            **_pick(body, *names, "from", "to", "reason"),
        }
    if source == "consent" and subject == "consent" and action in CONSENT_ACTIONS:
        return f"consent.{action}", _pick(
            body, "service_id", "scopes", "removed_scopes", "expires_at", "actor", "reason"
        )
    return None


def _stage(session: Session, events: list[Any]) -> None:
    rows: list[dict[str, Any]] = []
    consent_ids: list[str] = []
    for e in events:
        found = log_entry_of(e.tag, e.subject_id, e.body or {})
        if found is None:
            continue
        kind, body = found
        row = {
            "kind": kind,
            "time": rfc3339(e.created_at),
            "body": json.dumps(body, sort_keys=True, separators=(",", ":")),
            "account_id": None,
            "citizen": None,
            "_consent": e.subject_id if kind.startswith("consent.") else None,
        }
        if row["_consent"]:
            consent_ids.append(e.subject_id)
        rows.append(row)
    if not rows:
        return
    owners: dict[str, str] = {}
    if consent_ids:
        owners = dict(
            session.execute(
                sa.text("SELECT id, account_id FROM consents WHERE id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": sorted(set(consent_ids))},
            ).all()
        )
    forgotten: dict[str, str] = session.info.get("transparency_forgotten", {})
    for row in rows:
        consent = row.pop("_consent")
        account = owners.get(consent) if consent else None
        if account is not None and account in forgotten:
            # Erased in this transaction: the key is gone; a one-off pseudonym links nothing.
            row["citizen"] = forgotten[account]
        else:
            row["account_id"] = account
    session.execute(sa.insert(_PENDING), rows)


def stage_events(session: Session) -> None:
    """Turn the session's audit events recorded so far into pending rows, each event once."""
    events: list[Any] = session.info.get("events", [])
    marker = session.info.get("transparency_seen")
    start = marker[1] if marker is not None and marker[0] == id(events) else 0
    fresh = events[start:]
    if not fresh:
        return
    session.info["transparency_seen"] = (id(events), len(events))
    _stage(session, fresh)


def install() -> None:
    """Listen on every ORM session (idempotent). AsyncSession runs this inside its greenlet."""
    if not event.contains(Session, "before_commit", stage_events):
        event.listen(Session, "before_commit", stage_events)


INSERT_PENDING = (
    "INSERT INTO transparency_pending (kind, time, body, account_id, citizen)"
    " VALUES (?, ?, ?, ?, NULL)"
)


def access_rows(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Pending rows for data access events (the introspection group commit's rows)."""
    out = []
    for row in rows:
        body = {
            "service_id": row["service_id"],
            "scope": row["scope"],
            "tier": row["tier"],
            "purpose": row["purpose"],
            "data_api_id": row["data_api_id"],
        }
        out.append(
            (
                ACCESS_KIND,
                rfc3339(row["created_at"]),
                json.dumps(body, sort_keys=True, separators=(",", ":")),
                row["account_id"],
            )
        )
    return out
