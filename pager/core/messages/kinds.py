"""The kinds of message pager sends: one table, the one place a kind is defined.

Each kind says whether it asks the recipient to acknowledge (it carries a reply code),
whether a failed email of it falls back to an SMS (it is about the recipient's duty, not
news), and the words that mark it in an SMS bundle line, an email subject and a call.
The ladder decides which kind a message is; the renderer and the outbox read this table.
Test pages and shift notices are not ticket messages: their outbox kinds (``test``,
``shift``) are written by their own modules and never rendered through this table.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

MessageKind = Literal[
    "page",
    "handoff",
    "remind",
    "overdue",
    "inform",
    "closed",
    "unacknowledged",
    "handoff_out",
    "escalated",
]


class KindSpec(NamedTuple):
    """What a kind means to the outbox and how it is marked in each channel."""

    #: It asks for an acknowledgement: a page carries the person's reply code.
    ackable: bool
    #: A failed email of this kind is sent again as an SMS (a duty, not news).
    email_falls_back: bool
    #: Before the ticket in an SMS bundle line (``Handoff T-1 ...``).
    bundle_label: str
    #: After ``[SEVn] `` in an email subject (``[SEV1] Reminder: T-1 ...``).
    subject_prefix: str
    #: The first words of a call (``Handoff. Severity 1 ticket ...``).
    voice_opening: str


KINDS: dict[MessageKind, KindSpec] = {
    "page": KindSpec(True, True, "", "", ""),
    "handoff": KindSpec(True, True, "Handoff ", "Handoff: ", "Handoff. "),
    "remind": KindSpec(False, True, "", "Reminder: ", "Status report reminder. "),
    "overdue": KindSpec(False, True, "", "Overdue: ", "Status report overdue. "),
    "inform": KindSpec(False, False, "FYI ", "FYI: ", "For your information. "),
    "closed": KindSpec(False, False, "Closed ", "Closed: ", "Closed. "),
    "unacknowledged": KindSpec(False, False, "UNACKED ", "Unacknowledged: ", "Unacknowledged. "),
    "handoff_out": KindSpec(False, False, "Handed off ", "Handed off: ", "Handed off. "),
    "escalated": KindSpec(False, False, "Escalated ", "Escalated: ", "Escalated. "),
}

#: Kinds that ask the recipient to acknowledge (they carry a reply code).
ACKABLE: frozenset[MessageKind] = frozenset(k for k, spec in KINDS.items() if spec.ackable)
#: Kinds whose failed email falls back to an SMS.
EMAIL_FALLS_BACK: frozenset[MessageKind] = frozenset(
    k for k, spec in KINDS.items() if spec.email_falls_back
)


def is_kind(name: str) -> bool:
    """True when ``name`` is a ticket message kind of the table."""
    return name in KINDS
