"""Cursor pagination: `?limit=&cursor=` in, `{items, next_cursor}` out, keyset-ordered so pages stay stable."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from marketplace import errors

T = TypeVar("T")
Row = TypeVar("Row")


class ListQuery(BaseModel):
    """The paging parameters every list accepts."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=20, ge=1, le=100, description="items per page (1 to 100)")
    cursor: str | None = Field(
        default=None, max_length=500, description="`next_cursor` from the previous page"
    )


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    items: list[T]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null at the end"
    )


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        values = None
    if (
        not isinstance(values, list)
        or len(values) != arity
        or not all(isinstance(v, str | int | float) for v in values)
    ):
        raise _bad_cursor()
    return values


def _bad_cursor() -> errors.MalformedRequest:
    return errors.MalformedRequest(
        "invalid cursor",
        [
            errors.FieldError(
                pointer="", detail="is not a cursor this API issued", parameter="cursor"
            )
        ],
    )


def _coerce(value: Any, key: Any) -> Any:
    """A cursor value of the key column's type; a forged cursor must not reach the database."""
    column_type = key.type
    if isinstance(column_type, sa.DateTime | sa.TypeDecorator) and isinstance(
        getattr(column_type, "impl", column_type), sa.DateTime
    ):
        python_type: type = datetime
    elif isinstance(column_type, sa.Integer):
        python_type = int
    else:
        python_type = str
    if python_type is datetime:
        try:
            return datetime.fromisoformat(str(value))
        except ValueError:
            raise _bad_cursor() from None
    if python_type is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if python_type is str and isinstance(value, str):
        return value
    raise _bad_cursor()


async def paginate(
    session: AsyncSession,
    statement: Any,
    *,
    keys: Sequence[Any],
    key_of: Callable[[Any], Sequence[Any]],
    query: ListQuery,
    descending: bool = False,
) -> tuple[list[Any], str | None]:
    """Keyset pagination over `keys` (which together must be unique, e.g. (name, id))."""
    if query.cursor:
        after = [
            _coerce(v, k) for v, k in zip(decode_cursor(query.cursor, len(keys)), keys, strict=True)
        ]
        tuple_keys = sa.tuple_(*keys)
        statement = statement.where(
            tuple_keys < sa.tuple_(*after) if descending else tuple_keys > sa.tuple_(*after)
        )
    order = [k.desc() if descending else k.asc() for k in keys]
    statement = statement.order_by(*order).limit(query.limit + 1)
    # sqlmodel's exec yields model objects for one entity and tuples for several.
    rows: list[Any] = list((await session.exec(statement)).all())
    has_more = len(rows) > query.limit
    rows = rows[: query.limit]
    next_cursor = encode_cursor(key_of(rows[-1])) if has_more and rows else None
    return rows, next_cursor
