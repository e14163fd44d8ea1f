"""Message text: SMS bodies, bundles, email subjects and bodies, voice scripts.

Why one module over 400 lines: the channels' wordings (SMS, bundle, email, voice) share
private time, shortening and subject-line helpers, and keeping them side by side is how
their texts stay consistent with each other.

Pure functions of :class:`MessageFacts`. Times in SMS and voice are UTC wall times
``HH:MMZ`` (pages are about the next hours; the email body carries full dates). Seconds
are dropped, never rounded up, so a shown deadline is never later than the real one.

SMS bodies are GSM-7 only and, where the facts allow, one 160-septet segment: free text
(customer, summary, names) is first mapped to GSM-7 (:func:`pager.core.messages.gsm7.to_gsm7`),
then optional parts are dropped, then the summary is shortened (ending in ``...``), then
dropped, then the customer is shortened. Only facts that cannot be shortened (a very
long ticket id or rung name) can push a body past one segment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pager.core.messages.gsm7 import SINGLE_SEGMENT_SEPTETS, is_gsm7, septets, sms_segments, to_gsm7
from pager.core.messages.kinds import ACKABLE, KINDS, MessageKind

__all__ = [
    "ACKABLE",
    "MessageFacts",
    "MessageKind",
    "email_body",
    "email_subject",
    "is_gsm7",
    "sms_bundle",
    "sms_segments",
    "sms_text",
    "voice_script",
]

#: Keys pressed on a page call (the spec's "digits on-call engineers already know").
VOICE_ACK_DIGIT = "4"
VOICE_ESCALATE_DIGIT = "5"

#: A shortened summary shorter than this (septets, "..." included) is dropped instead.
MIN_SUMMARY = 12
#: A shortened customer shorter than this is dropped instead.
MIN_CUSTOMER = 6


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """Everything a message says. Free-text fields may hold any Unicode.

    ``code`` is the reply code of a page or handoff (None for other kinds); ``rung`` is
    1..4 (0 if none); ``owner`` and ``recipient`` are display names; ``timeline`` holds
    ``(instant, line)`` pairs for the email body; ``now``, when given, is the instant the
    message is rendered for and adds "(in 15m)" hints to reminders.
    """

    kind: MessageKind
    ticket_id: str
    severity: int
    customer: str | None
    summary: str | None
    rung: int
    rung_name: str
    code: str | None
    respond_by: datetime | None
    status_due: datetime | None
    breached: bool
    owner: str | None
    recipient: str
    timeline: tuple[tuple[datetime, str], ...] = ()
    now: datetime | None = None


# --- small formatting helpers ---------------------------------------------------------


def _hhmm(t: datetime) -> str:
    if t.tzinfo is not UTC:
        t = t.astimezone(UTC)
    return f"{t.hour:02d}:{t.minute:02d}Z"  # strftime is several times slower


def _full(t: datetime, seconds: bool = False) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ" if seconds else "%Y-%m-%d %H:%MZ")


def _span(delta: timedelta) -> str:
    """``15m``, ``2h``, ``1h05m``, ``3d4h`` (rounded to the minute)."""
    minutes = max(0, round(delta.total_seconds() / 60))
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def _in(now: datetime | None, t: datetime) -> str:
    """`` (in 15m)`` when ``now`` is known and before ``t``, else empty."""
    if now is None or t <= now:
        return ""
    return f" (in {_span(t - now)})"


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def _oneline(text: str | None) -> str | None:
    """Whitespace runs collapsed; empty text is None."""
    if text is None:
        return None
    joined = " ".join(text.split())
    return joined or None


def _gsm(text: str | None) -> str | None:
    return _oneline(to_gsm7(text)) if text is not None else None


def _shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` septets, ending in ``...`` when cut."""
    if septets(text) <= limit:
        return text
    used, end = 0, 0
    for ch in text:
        size = septets(ch)
        if used + size + 3 > limit:
            break
        used += size
        end += 1
    return text[:end].rstrip(" ,;:-") + "..."


def _subject_of(
    f: MessageFacts,
    customer: str | None,
    summary: str | None,
    ticket: bool = True,
    ticket_id: str | None = None,
) -> str:
    """``SEV1 T-1042 Acme: gateway down`` (parts that are None left out); ``ticket_id``
    stands in for the facts' own (e.g. sanitised to GSM-7)."""
    text = f"SEV{f.severity}"
    if ticket:
        text += f" {f.ticket_id if ticket_id is None else ticket_id}"
    if customer:
        text += f" {customer}"
    if summary:
        text += f": {summary}"
    return text


def _rung_label(f: MessageFacts, name: str) -> str:
    return f"rung {f.rung} {name}".rstrip() if f.rung else name


# --- SMS ------------------------------------------------------------------------------

# A builder makes the body from (customer, summary, with_optional_parts).
_Builder = Callable[[str | None, str | None, bool], str]


def _sms_builder(f: MessageFacts) -> _Builder:
    ticket = to_gsm7(f.ticket_id)
    rung_name = _gsm(f.rung_name) or ""
    owner = _gsm(f.owner)

    def deadline() -> str | None:
        if f.breached:
            return f"SLA breached (due {_hhmm(f.respond_by)})." if f.respond_by else "SLA breached."
        if f.respond_by is not None:
            return f"Respond by {_hhmm(f.respond_by)}."
        return None

    def reply() -> str | None:
        if f.code is None:
            return None
        code = to_gsm7(f.code)
        return f"Reply {code} to ack, {code}E to escalate"

    def build(customer: str | None, summary: str | None, optional: bool) -> str:
        head = _subject_of(f, customer, summary, ticket_id=ticket)
        parts: list[str | None]
        match f.kind:
            case "page":
                rung = f"Rung {f.rung} {rung_name}".rstrip() + "." if f.rung >= 2 else None
                parts = [_sentence(head), rung if optional else None, deadline(), reply()]
            case "handoff":
                due = (
                    f"Next status due {_hhmm(f.status_due)}."
                    if f.status_due is not None
                    else deadline()
                )
                source = f"From {owner}." if owner and optional else None
                parts = ["Handoff: " + _sentence(head), source, due, reply()]
            case "remind":
                when = (
                    f"due {_hhmm(f.status_due)}{_in(f.now, f.status_due)}"
                    if f.status_due is not None
                    else "due soon"
                )
                rest = _subject_of(f, customer, summary, ticket=False)
                parts = [f"Status report for {ticket} {when}.", rest, reply()]
            case "overdue":
                when = f" was due {_hhmm(f.status_due)}" if f.status_due is not None else ""
                rest = _subject_of(f, customer, summary, ticket=False)
                parts = [
                    f"OVERDUE: status report for {ticket}{when}. Post it now.",
                    _sentence(rest),
                    reply(),
                ]
            case "inform":
                paging = f"Paging {_rung_label(f, rung_name)}." if f.rung and optional else None
                parts = ["FYI: " + _sentence(head), paging, deadline(), reply()]
            case "closed":
                parts = ["Closed: " + _sentence(head), "No action needed.", reply()]
            case "unacknowledged":
                parts = [
                    "UNACKNOWLEDGED: " + _sentence(head),
                    "Nobody acked; paging stopped.",
                    deadline() if optional else None,
                    reply(),
                ]
            case "handoff_out":
                parts = [
                    "Handed off: " + _sentence(head),
                    "You are off shift; the incoming on-call was paged.",
                    reply(),
                ]
            case "escalated":
                where = f" to {_rung_label(f, rung_name)}" if f.rung else ""
                keeper = f"Owner: {owner}." if owner and optional else None
                parts = [f"Escalated{where}: " + _sentence(head), keeper, deadline(), reply()]
        return " ".join(p for p in parts if p)

    return build


def _fits(text: str) -> bool:
    return septets(text) <= SINGLE_SEGMENT_SEPTETS


def _fit(build: _Builder, customer: str | None, summary: str | None) -> str:
    """The fullest body that fits one segment (see the module docstring for the order)."""
    for optional in (True, False):
        text = build(customer, summary, optional)
        if _fits(text):
            return text
    if summary:
        over = septets(build(customer, summary, False)) - SINGLE_SEGMENT_SEPTETS
        room = septets(summary) - over
        summary = _shorten(summary, room) if room >= MIN_SUMMARY else None
        text = build(customer, summary, False)
        if _fits(text):
            return text
    if customer:
        over = septets(build(customer, summary, False)) - SINGLE_SEGMENT_SEPTETS
        room = septets(customer) - over
        customer = _shorten(customer, room) if room >= MIN_CUSTOMER else None
    return build(customer, summary, False)


def sms_text(f: MessageFacts) -> str:
    """The SMS body for ``f``: GSM-7, one segment where possible, e.g.
    ``SEV1 T-1042 Acme: gateway down. Respond by 03:45Z. Reply 7 to ack, 7E to escalate``.
    """
    return _fit(_sms_builder(f), _gsm(f.customer), _gsm(f.summary))


#: Summary lengths tried for bundle lines, longest first; 0 (no summary) stays last:
#: :func:`sms_bundle` renders it first and returns it when nothing fits.
_BUNDLE_SUMMARY_STEPS = (40, 32, 24, 18, 12, 0)
_BUNDLE_CUSTOMER = 20


def _bundle_line(f: MessageFacts, summary_room: int) -> str:
    ticket = to_gsm7(f.ticket_id)
    customer = _gsm(f.customer)
    if customer:
        customer = _shorten(customer, _BUNDLE_CUSTOMER)
    summary = _gsm(f.summary)
    summary = _shorten(summary, summary_room) if summary and summary_room else None
    who = f"{ticket} {customer}" if customer else ticket
    if f.kind == "remind":
        due = f" {_hhmm(f.status_due)}" if f.status_due else ""
        line = f"Status due{due}: {who}"
    elif f.kind == "overdue":
        line = f"OVERDUE status: {who}"
    else:
        line = KINDS[f.kind].bundle_label + _subject_of(f, customer, summary, ticket_id=ticket)
    if f.code is not None:
        line = f"{to_gsm7(f.code)}) {line}"
    return line


def sms_bundle(items: Sequence[MessageFacts]) -> str:
    """Several waiting SMS for one person as one body: a line per item (its reply code
    first), then ``Reply 7 to ack, 7E to escalate, ACK ALL for all`` when any has a code.

    One item gives :func:`sms_text`. Summaries are shortened (then dropped) to keep one
    segment; many items may still need several. Raises ``ValueError`` when empty.
    """
    if not items:
        raise ValueError("empty bundle")
    if len(items) == 1:
        return sms_text(items[0])
    all_pages = all(f.kind in ACKABLE for f in items)
    header = _bundle_header(len(items), all_pages)
    codes = [to_gsm7(f.code) for f in items if f.code is not None]
    footer = _bundle_footer(codes[0]) if codes else ""

    def render(room: int) -> str:
        return _bundle_text(header, [_bundle_line(f, room) for f in items], footer)

    # A longer summary never makes a line shorter: when the body without summaries needs
    # several segments, so does every longer one, and that body is the answer. (A storm's
    # bundles are that case; the relay renders each candidate prefix of one.)
    bare = render(0)
    if not _fits(bare):
        return bare
    for room in _BUNDLE_SUMMARY_STEPS[:-1]:
        text = render(room)
        if _fits(text):
            return text
    return bare


def _bundle_header(count: int, all_pages: bool) -> str:
    return f"{count} pages:" if all_pages else f"{count} alerts:"


def _bundle_footer(code: str) -> str:
    return f"Reply {code} to ack, {code}E to escalate, ACK ALL for all"


def _bundle_text(header: str, lines: list[str], footer: str) -> str:
    """The header, a line per item, and the footer when there is one."""
    return "\n".join([header, *lines, footer] if footer else [header, *lines])


def sms_bundle_fit(items: Iterable[MessageFacts], max_chars: int) -> tuple[int, str]:
    """How many of ``items`` (a prefix, at least one) make the longest bundle at most
    ``max_chars`` long (``max_chars`` >= one segment), and that bundle:
    ``sms_bundle(first n)``. Raises ``ValueError`` when ``items`` is empty.

    ``items`` is consumed lazily, one past the prefix at most, and each line is rendered
    once: a storm may leave thousands of messages waiting for one person. A bundle that
    cannot fit one segment is the body without summaries (:func:`sms_bundle`), so its
    length grows with each line and the first line that would cross ``max_chars`` ends
    the prefix; a shorter body fits one segment, hence ``max_chars``, whatever summaries
    :func:`sms_bundle` then gives it.
    """
    taken: list[MessageFacts] = []
    lines: list[str] = []
    length = 0  # of the lines, each with the newline before it
    all_pages = True
    code: str | None = None  # the first item's code that has one (the footer's)
    for f in items:
        line = _bundle_line(f, 0)
        pages = all_pages and f.kind in ACKABLE
        if code is None and f.code is not None:
            first_code: str | None = to_gsm7(f.code)
        else:
            first_code = code
        size = len(_bundle_header(len(taken) + 1, pages)) + length + 1 + len(line)
        if first_code is not None:
            size += 1 + len(_bundle_footer(first_code))
        if taken and size > max_chars:
            break
        taken.append(f)
        lines.append(line)
        length += 1 + len(line)
        all_pages, code = pages, first_code
    if not taken:
        raise ValueError("empty bundle")
    if len(taken) == 1:
        return 1, sms_text(taken[0])
    footer = _bundle_footer(code) if code is not None else ""
    bare = _bundle_text(_bundle_header(len(taken), all_pages), lines, footer)
    # Short enough for one segment: let sms_bundle add what summaries still fit.
    return len(taken), bare if not _fits(bare) else sms_bundle(taken)


# --- email ----------------------------------------------------------------------------


def email_subject(f: MessageFacts) -> str:
    """``[SEV1] T-1042 Acme: gateway down``; other kinds add a prefix after the
    severity (``[SEV1] Reminder: T-1042 ...``). Always one line."""
    rest = _subject_of(f, _oneline(f.customer), _oneline(f.summary))
    rest = rest.removeprefix(f"SEV{f.severity} ")
    return f"[SEV{f.severity}] {KINDS[f.kind].subject_prefix}{' '.join(rest.split())}"


def _lead(f: MessageFacts) -> str:
    rung = _rung_label(f, _oneline(f.rung_name) or "") if f.rung else ""
    owner = _oneline(f.owner)
    due = _full(f.status_due) if f.status_due is not None else None
    match f.kind:
        case "page":
            where = f" at {rung}" if rung else ""
            return f"You are paged{where} for this ticket. Please acknowledge it."
        case "handoff":
            source = f" from {owner}" if owner else ""
            return (
                f"You are taking over this ticket{source} at a follow-the-sun handoff. "
                "Please acknowledge it."
            )
        case "remind":
            when = f" at {due}{_in(f.now, f.status_due)}" if f.status_due is not None else " soon"
            return f"A status report to the customer is due{when}."
        case "overdue":
            when = f" due at {due}" if due else ""
            return (
                f"The status report{when} is overdue. Post it now; "
                "the next rung of the ladder is being paged."
            )
        case "inform":
            where = f" at {rung}" if rung else ""
            return f"For your information: this ticket is being paged{where}."
        case "closed":
            return "This ticket is closed. Nothing more to do."
        case "unacknowledged":
            return (
                "Nobody acknowledged this ticket although every rung was paged. Paging has stopped."
            )
        case "handoff_out":
            return (
                "You went off shift, so this ticket was handed to the incoming on-call "
                "person. You own it until they acknowledge."
            )
        case "escalated":
            where = f" to {rung}" if rung else ""
            return f"This ticket was escalated{where}."


def email_body(f: MessageFacts) -> str:
    """Plain text: greeting, what happened, the facts, how to acknowledge (when the
    message carries a reply code) and ``Timeline:`` with full UTC times, oldest first."""
    facts: list[tuple[str, str | None]] = [
        ("Ticket", f.ticket_id),
        ("Severity", str(f.severity)),
        ("Customer", _oneline(f.customer)),
        ("Summary", _oneline(f.summary)),
        ("Rung", f"{f.rung} {_oneline(f.rung_name) or ''}".rstrip() if f.rung else None),
        ("Respond by", _full(f.respond_by) if f.respond_by is not None else None),
        ("SLA", "BREACHED" if f.breached else None),
        ("Status due", _full(f.status_due) if f.status_due is not None else None),
        ("Owner", _oneline(f.owner)),
        ("Reply code", f.code),
    ]
    width = max(len(label) for label, _ in facts) + 2
    lines = [f"Hello {_oneline(f.recipient) or 'there'},", "", _lead(f), ""]
    lines += [f"{label + ':':<{width}}{value}" for label, value in facts if value]
    if f.code is not None:
        lines += [
            "",
            f"To acknowledge: reply {f.code} to the SMS ({f.code}E escalates),",
            f"press {VOICE_ACK_DIGIT} on the call ({VOICE_ESCALATE_DIGIT} escalates), or run",
            f"  pager ack {f.ticket_id} --by YOUR-ID",
        ]
    elif f.kind in ("remind", "overdue"):
        lines += ["", "Post the status report in the support desk."]
    if f.timeline:
        lines += ["", "Timeline:"]
        for at, text in sorted(f.timeline, key=lambda item: item[0]):
            lines.append(f"  {_full(at, seconds=True)}  {_oneline(text) or ''}".rstrip())
    return "\n".join(lines) + "\n"


# --- voice ----------------------------------------------------------------------------


def _spell(ticket_id: str) -> str:
    """``T-1042`` -> ``T 1 0 4 2``: letters and digits one by one, punctuation dropped."""
    return " ".join(ch.upper() for ch in ticket_id if ch.isalnum())


def voice_script(f: MessageFacts) -> str:
    """What a call says, e.g. ``Severity 1 ticket T 1 0 4 2 for Acme: gateway down.
    Press 4 to acknowledge, 5 to escalate, star to repeat.`` Pages and handoffs offer
    the keys; other kinds only offer to repeat."""
    text = f"{KINDS[f.kind].voice_opening}Severity {f.severity} ticket {_spell(f.ticket_id)}"
    customer, summary = _oneline(f.customer), _oneline(f.summary)
    if customer:
        text += f" for {customer}"
    if summary:
        text += f": {summary}"
    parts = [_sentence(text)]
    if f.kind == "page" and f.rung >= 2:
        parts.append(f"Escalated to rung {f.rung}.")
    if f.breached:
        parts.append("The response deadline has passed.")
    if f.kind in ACKABLE:
        parts.append(
            f"Press {VOICE_ACK_DIGIT} to acknowledge, {VOICE_ESCALATE_DIGIT} to escalate, "
            "star to repeat."
        )
    else:
        parts.append("Press star to repeat.")
    return " ".join(parts)
