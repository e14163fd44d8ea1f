"""What the SQLite and PostgreSQL stores share about stored rows: the outbox columns.

Both dialects keep the outbox in the same columns, in the same order; they differ only in
how an instant is stored (SQLite: epoch seconds; PostgreSQL: ``timestamptz``), so the
decoder takes the dialect's instant decoder as an argument.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from pager.store.types import InterruptedSms, OutboxRow, OutboxState

PENDING = OutboxState.PENDING.value
SENDING = OutboxState.SENDING.value
SENT = OutboxState.SENT.value
FAILED = OutboxState.FAILED.value
CANCELLED = OutboxState.CANCELLED.value

#: The outbox columns in the order :func:`outbox_row` reads them.
OUTBOX_COLUMNS = (
    "id, key, ticket_id, person, channel, address, kind, subject, body, bundle_line, token,"
    " state, attempts, not_before, created_at, code, error, fallback"
)


def _as_is(value: Any) -> datetime:
    return value  # type: ignore[no-any-return]


def outbox_row(r: Sequence[Any], instant: Callable[[Any], datetime] = _as_is) -> OutboxRow:
    """A row selected as :data:`OUTBOX_COLUMNS` -> :class:`OutboxRow`.

    ``instant`` turns a stored instant column into an aware datetime (the default keeps
    the value as the driver returned it, which suits PostgreSQL's ``timestamptz``).
    """
    return OutboxRow(
        id=r[0],
        key=r[1],
        ticket_id=r[2],
        person=r[3],
        channel=r[4],
        address=r[5],
        kind=r[6],
        subject=r[7],
        body=r[8],
        bundle_line=r[9],
        token=r[10],
        state=OutboxState(r[11]),
        attempts=r[12],
        not_before=instant(r[13]),
        created_at=instant(r[14]),
        code=r[15],
        error=r[16],
        fallback=bool(r[17]),
    )


def interrupted_sends(
    rows: Sequence[Sequence[Any]], instant: Callable[[Any], datetime] = _as_is
) -> list[InterruptedSms]:
    """Rows selected as ``id, address, claimed_at, claim_digest`` (ordered by id) ->
    one :class:`InterruptedSms` per provider request (the rows of one bundle share its
    address, claim instant and digest)."""
    sends: dict[tuple[str, Any, str], list[int]] = {}
    for row_id, address, claimed_at, digest in rows:
        sends.setdefault((address, claimed_at, digest), []).append(row_id)
    return [
        InterruptedSms(tuple(ids), address, instant(claimed_at), digest)
        for (address, claimed_at, digest), ids in sends.items()
    ]
