"""Several waiting SMS of one person as one: which rows go, and the text (the core's
GSM-7-aware :func:`pager.core.messages.render.sms_bundle`)."""

from __future__ import annotations

from collections.abc import Sequence

from pager.core.messages import render
from pager.daemon.engine import Engine
from pager.store.types import OutboxRow

#: Twilio refuses a message body longer than this.
MAX_SMS_BODY = 1600


def sms_bundle_text(engine: Engine, rows: Sequence[OutboxRow]) -> tuple[int, str]:
    """How many of ``rows`` (a prefix, at least one) go out as one SMS, and its text.

    A single row keeps its own rendered body; several are rendered together from their
    tickets' facts (on the store thread: ``engine`` reads them).
    """
    if len(rows) == 1:
        return 1, rows[0].body
    count, text = _fit(engine.bundle_facts(rows))
    if count == 1:
        return 1, rows[0].body
    return count, text


def fit_bundle(items: Sequence[render.MessageFacts]) -> int:
    """How many of ``items`` (a prefix, at least one) go into one bundle whose body fits
    one Twilio message; the rest stay pending for the next bundle.

    A binary search over the prefix length: rendering is not free, and a storm may hold
    hundreds of rows for one person. The prefix found always fits.
    """
    return _fit(items)[0]


def _fit(items: Sequence[render.MessageFacts]) -> tuple[int, str]:
    """:func:`fit_bundle`, and the text of the prefix it found, as the search rendered it
    (empty when only the first item fits: that row's own body goes out)."""
    fits, too_long = 1, len(items) + 1
    text = ""
    while too_long - fits > 1:
        mid = (fits + too_long) // 2
        candidate = render.sms_bundle(items[:mid])
        if len(candidate) <= MAX_SMS_BODY:
            fits, text = mid, candidate
        else:
            too_long = mid
    return fits, text
