"""Ticket events as the support desk publishes them, for the end-to-end and chaos harnesses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


def now_rfc3339() -> str:
    """Now, UTC, as an RFC 3339 timestamp with microseconds and a ``Z``."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def ticket_event(ticket: str, type_: str = "opened", **fields: Any) -> dict[str, Any]:
    """A valid event stamped now; ``opened`` is a Severity 1 premier ticket of Acme.

    ``fields`` are laid over the defaults (an ``event_id`` or ``at`` given wins).
    """
    body: dict[str, Any] = {
        "event_id": uuid.uuid4().hex,
        "ticket_id": ticket,
        "type": type_,
        "at": now_rfc3339(),
    }
    if type_ == "opened":
        body.update(severity=1, tier="premier", customer="Acme", summary="gateway down")
    body.update(fields)
    return body
