"""Several waiting SMS of one person as one: which rows go, and the text (the core's
GSM-7-aware :func:`pager.core.messages.render.sms_bundle`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pager.core.messages import render
from pager.daemon.engine import Engine
from pager.store.types import OutboxRow

#: Twilio refuses a message body longer than this.
MAX_SMS_BODY = 1600


#: Rows turned into facts at a time while a bundle is fitted.
FACTS_CHUNK = 16


def sms_bundle_text(engine: Engine, rows: Sequence[OutboxRow]) -> tuple[int, str]:
    """How many of ``rows`` (a prefix, at least one) go out as one SMS, and its text.

    A single row keeps its own rendered body; several are rendered together from their
    facts (on the store thread: ``engine`` may read tickets). Only the rows the fit looks
    at are turned into facts, a chunk at a time: a storm may hold thousands for one
    person, and one body holds a few dozen lines.
    """
    if len(rows) == 1:
        return 1, rows[0].body

    def facts() -> Iterator[render.MessageFacts]:
        for start in range(0, len(rows), FACTS_CHUNK):
            yield from engine.bundle_facts(rows[start : start + FACTS_CHUNK])

    count, text = render.sms_bundle_fit(facts(), MAX_SMS_BODY)
    if count == 1:
        return 1, rows[0].body
    return count, text
