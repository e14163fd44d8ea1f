"""SMS reply parsing, reply codes and the usage answer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pager.core.messages.gsm7 import is_gsm7, sms_segments
from pager.core.replies import (
    Ack,
    AckAll,
    Escalate,
    Help,
    Reply,
    Unknown,
    help_text,
    next_code,
    parse_reply,
)

REPLIES: list[tuple[str, Reply]] = [
    # bare codes acknowledge
    ("7", Ack("7")),
    ("  7 ", Ack("7")),
    ("12", Ack("12")),
    ("07", Ack("7")),
    ("#7", Ack("7")),
    ("7.", Ack("7")),
    ("7!", Ack("7")),
    ("ok, 12", Ack("12")),
    ("12, on it", Ack("12")),
    ("7 ack", Ack("7")),
    ("on it 3", Ack("3")),
    # ack + code
    ("ack 7", Ack("7")),
    ("ACK 7", Ack("7")),
    ("Ack 7 on my way", Ack("7")),
    ("ack: 7", Ack("7")),
    ("acknowledge 4", Ack("4")),
    ("in 5 min, ack 7", Ack("7")),  # an explicit command beats an earlier bare number
    ("ack\n7", Ack("7")),
    # escalation
    ("7e", Escalate("7")),
    ("  7E ", Escalate("7")),
    ("7esc", Escalate("7")),
    ("esc 7", Escalate("7")),
    ("ESC 7e", Escalate("7")),
    ("escalate 2 please", Escalate("2")),
    ("need help from L2: 3e", Escalate("3")),  # a code command beats "help"
    ("cannot fix, 3e", Escalate("3")),
    ("3 e", Ack("3")),  # a lone "e" is not an escalation
    # bare keywords
    ("ack", Ack(None)),
    ("Ack.", Ack(None)),
    ("ack on my way", Ack(None)),
    ("esc", Escalate(None)),
    ("Escalate!", Escalate(None)),
    # ack all
    ("ack all", AckAll()),
    ("ACK ALL", AckAll()),
    ("ackall", AckAll()),
    ("acknowledge all, thanks", AckAll()),
    ("ok ack all 7", AckAll()),
    # help
    ("help", Help()),
    ("HELP", Help()),
    ("?", Help()),
    (" ?? ", Help()),
    ("help 7", Ack("7")),
    ("7, help is coming", Ack("7")),
    ("help ack", Help()),
    ("what does ack mean? help", Help()),
    # carrier keywords are the carrier's
    ("stop", Unknown("stop")),
    ("STOP", Unknown("STOP")),
    ("Stop 7", Unknown("Stop 7")),
    ("start", Unknown("start")),
    ("unsubscribe", Unknown("unsubscribe")),
    ("cancel 7", Unknown("cancel 7")),
    # not replies
    ("", Unknown("")),
    ("   ", Unknown("   ")),
    ("thanks", Unknown("thanks")),
    ("0", Unknown("0")),
    ("T-1042", Unknown("T-1042")),  # a ticket key is not a code
    ("T-1042 is fixed", Unknown("T-1042 is fixed")),
    ("1042", Ack("1042")),  # up to four digits: storms give one person thousands of pages
    ("10420", Unknown("10420")),  # five digits: a ticket number or a phone fragment
    ("call +15550000001", Unknown("call +15550000001")),
    ("７", Unknown("７")),  # full-width digit: only ASCII digits are codes
    ("ack 7e", Unknown("ack 7e")),  # contradicts itself
    ("7x", Unknown("7x")),
    ("e7", Unknown("e7")),
    ("what?", Unknown("what?")),
]


@pytest.mark.parametrize(("body", "expected"), REPLIES, ids=[repr(b) for b, _ in REPLIES])
def test_parse_reply(body: str, expected: Reply) -> None:
    assert parse_reply(body) == expected


def test_stop_later_in_the_text_does_not_block() -> None:
    assert parse_reply("7 stop paging me") == Ack("7")


@given(st.text(max_size=80))
def test_parse_never_raises_and_codes_are_canonical(body: str) -> None:
    reply = parse_reply(body)
    if isinstance(reply, Ack | Escalate) and reply.code is not None:
        assert reply.code.isascii() and reply.code.isdigit()
        assert str(int(reply.code)) == reply.code and 1 <= int(reply.code) <= 999
    if isinstance(reply, Unknown):
        assert reply.text == body


@given(st.integers(1, 999), st.sampled_from(["{}", "ack {}", "ACK {}", "{} thanks"]))
def test_every_issued_code_round_trips(n: int, template: str) -> None:
    code = str(n)
    assert parse_reply(template.format(code)) == Ack(code)
    assert parse_reply(f"{code}E") == Escalate(code)
    assert parse_reply(f"esc {code}") == Escalate(code)


@pytest.mark.parametrize(
    ("in_use", "expected"),
    [
        ((), "1"),
        (("1",), "2"),
        (("1", "2", "3"), "4"),
        (("2", "3"), "1"),
        (("1", "3"), "2"),
        ({str(n) for n in range(1, 12)}, "12"),
        (("x", "01"), "1"),  # non-canonical entries never block a code
    ],
)
def test_next_code(in_use: tuple[str, ...], expected: str) -> None:
    assert next_code(in_use) == expected


def test_next_code_result_parses_back() -> None:
    in_use: list[str] = []
    for _ in range(30):
        code = next_code(in_use)
        assert code not in in_use
        assert parse_reply(code) == Ack(code)
        in_use.append(code)
    assert in_use == [str(n) for n in range(1, 31)]


def test_help_text_is_one_gsm7_segment() -> None:
    text = help_text()
    assert is_gsm7(text)
    assert len(text) <= 160
    assert sms_segments(text) == 1
    for word in ("ACK", "ESC", "ACK ALL", "7E", "HELP"):
        assert word in text
    # The examples it gives parse as it says.
    assert parse_reply("ACK 7") == Ack("7")
    assert parse_reply("ESC 7") == Escalate("7")
