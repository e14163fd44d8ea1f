"""SMS replies from on-call people: parsing, reply codes, the usage answer.

Every page to a person carries a short code, unique among that person's open pages: a
small positive integer written in decimal (``"1"``, ``"2"``, ... ``"12"``).

How a reply body is read (case-insensitive; text around the command is ignored):

1. The body is split into words at whitespace and at ``, ; : . ! ? ( ) [ ] " '``; a
   leading ``#`` on a word is dropped (``#7``). Hyphens stay inside words, so a ticket
   key such as ``T-1042`` is never taken for a code.
2. A body that is only question marks is ``Help``. A body whose *first* word is a
   carrier keyword (``stop``, ``start``, ``unsubscribe``...) is ``Unknown``: the carrier
   acts on those, and "stop 7" is not an acknowledgement.
3. The first *explicit* command wins, scanning left to right: ``ack all`` (or
   ``ackall``); ``ack 7``; ``esc 7`` (or ``esc 7e``); ``7e`` (also ``7esc``). The
   contradiction ``ack 7e`` is ``Unknown``: an ambiguous reply is answered with usage
   rather than guessed.
4. Otherwise the first bare code (``7``) acknowledges: "ok, 12" acknowledges 12, "in 5 min"
   acknowledges 5 (the spec makes a bare code an acknowledgement).
5. Otherwise ``help`` anywhere is ``Help``. It ranks below codes because "7, help is
   coming" is an acknowledgement; asking for usage needs no code.
6. Otherwise a bare keyword: ``ack`` is ``Ack(None)``, ``esc`` is ``Escalate(None)`` (the
   caller applies them when the person has exactly one open page).
7. Anything else is ``Unknown`` with the original body.

A code is 1 to 3 ASCII digits, not zero; leading zeros are dropped (``07`` is ``7``).
Longer numbers (years, ticket numbers, phone numbers) are never codes, so
:func:`next_code` must stay below 1000, which it does while a person has fewer than 999
open pages.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Ack:
    """Acknowledge the page with ``code``; ``None``: the person's only open page."""

    code: str | None


@dataclass(frozen=True, slots=True)
class Escalate:
    """Escalate the page with ``code`` now; ``None``: the person's only open page."""

    code: str | None


@dataclass(frozen=True, slots=True)
class AckAll:
    """Acknowledge every open page of the person."""


@dataclass(frozen=True, slots=True)
class Help:
    """Answer with :func:`help_text`."""


@dataclass(frozen=True, slots=True)
class Unknown:
    """Not understood (or meant for the carrier); ``text`` is the body as received."""

    text: str


Reply = Ack | Escalate | AckAll | Help | Unknown

ACK_WORDS = frozenset({"ack", "acknowledge", "acknowledged"})
ESC_WORDS = frozenset({"esc", "escalate"})
HELP_WORDS = frozenset({"help"})
#: Opt-out/opt-in keywords that carriers and Twilio act on themselves.
CARRIER_KEYWORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "start", "unstop"}
)
#: Codes run to 9999 so that an alert storm of thousands of pages for one person still
#: gives each page its own code; longer numbers are never read as codes.
MAX_CODE_DIGITS = 4

_SPLIT = re.compile(r"[\s,;:.!?()\[\]\"']+")
_CODE = re.compile(rf"[0-9]{{1,{MAX_CODE_DIGITS}}}", re.ASCII)
_ESC_CODE = re.compile(rf"([0-9]{{1,{MAX_CODE_DIGITS}}})(?:e|esc)", re.ASCII)
_ONLY_QUESTION_MARKS = re.compile(r"\s*\?+\s*")


def _code(word: str) -> str | None:
    """``word`` as a normalised code (``"07"`` -> ``"7"``), or None if it is not one."""
    if _CODE.fullmatch(word) is None:
        return None
    value = int(word)
    return str(value) if value > 0 else None


def _esc_code(word: str) -> str | None:
    """The code of an escalate word (``"7e"`` -> ``"7"``), or None."""
    match = _ESC_CODE.fullmatch(word)
    return _code(match.group(1)) if match is not None else None


def _words(body: str) -> list[str]:
    return [w.lstrip("#") for w in _SPLIT.split(body.casefold()) if w.lstrip("#")]


def _explicit(words: list[str], i: int) -> Reply | None:
    """The explicit command starting at ``words[i]``, if there is one."""
    word = words[i]
    after = words[i + 1] if i + 1 < len(words) else ""
    if word == "ackall" or (word in ACK_WORDS and after == "all"):
        return AckAll()
    if (code := _esc_code(word)) is not None:
        return Escalate(code)
    if word in ACK_WORDS:
        if (code := _code(after)) is not None:
            return Ack(code)
        if _esc_code(after) is not None:
            return Unknown("")  # "ack 7e" contradicts itself; the caller reports the body
    if word in ESC_WORDS and ((code := _code(after)) or (code := _esc_code(after))):
        return Escalate(code)
    return None


def parse_reply(body: str) -> Reply:
    """Read an SMS reply (see the module docstring for the rules). Never raises."""
    if _ONLY_QUESTION_MARKS.fullmatch(body):
        return Help()
    words = _words(body)
    if not words or words[0] in CARRIER_KEYWORDS:
        return Unknown(body)
    for i in range(len(words)):
        found = _explicit(words, i)
        if isinstance(found, Unknown):
            return Unknown(body)
        if found is not None:
            return found
    for word in words:
        if (code := _code(word)) is not None:
            return Ack(code)
    if any(word in HELP_WORDS for word in words):
        return Help()
    for word in words:
        if word in ACK_WORDS:
            return Ack(None)
        if word in ESC_WORDS:
            return Escalate(None)
    return Unknown(body)


def next_code(in_use: Collection[str]) -> str:
    """The smallest positive integer, as a string, that is not in ``in_use``.

    Codes in ``in_use`` that are not canonical integers are ignored.
    """
    taken = set(in_use)
    candidate = 1
    while str(candidate) in taken:
        candidate += 1
    return str(candidate)


HELP_TEXT = (
    "pager: reply 7 or ACK 7 to ack page 7; 7E or ESC 7 to escalate it; "
    "ACK alone if you have one page; ACK ALL for all pages; HELP for this."
)


def help_text() -> str:
    """The usage answer to ``help``: one GSM-7 SMS segment (at most 160 characters)."""
    return HELP_TEXT
