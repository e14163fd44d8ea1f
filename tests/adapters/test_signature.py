"""TwilioSignature agrees with the twilio library's RequestValidator."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from pager.adapters.signature import TwilioSignature, compute_signature

TOKEN = "token-one-0000000000000000000000"
NEXT_TOKEN = "token-two-1111111111111111111111"
PUBLIC = "https://pager.example.com"
FORM = {
    "From": "+40700000001",
    "Body": "ack 7",
    "MessageSid": "SM0123",
    "To": "+15550000001",
    "AccountSid": "AC1",
}


def twilio_sign(token: str, url: str, form: dict[str, str]) -> str:
    signature: str = RequestValidator(token).compute_signature(url, form)
    return signature


@pytest.mark.parametrize(
    "url",
    [
        "https://pager.example.com/twilio/sms",
        "https://pager.example.com/twilio/voice/p1?step=gather&x=%2B1",
        "http://127.0.0.1:8025/twilio/sms",
    ],
)
def test_compute_signature_matches_twilio(url: str) -> None:
    assert compute_signature(TOKEN, url, FORM) == twilio_sign(TOKEN, url, FORM)
    assert compute_signature(TOKEN, url, {}) == twilio_sign(TOKEN, url, {})


def test_valid_signature() -> None:
    checker = TwilioSignature([TOKEN], PUBLIC + "/")  # trailing slash is dropped
    signature = twilio_sign(TOKEN, PUBLIC + "/twilio/sms", FORM)
    assert checker.is_valid("/twilio/sms", FORM, signature)
    assert RequestValidator(TOKEN).validate(PUBLIC + "/twilio/sms", FORM, signature)


def test_query_string_is_part_of_the_signed_url() -> None:
    checker = TwilioSignature([TOKEN], PUBLIC)
    signature = twilio_sign(TOKEN, PUBLIC + "/twilio/voice/p1?step=2", FORM)
    assert checker.is_valid("/twilio/voice/p1?step=2", FORM, signature)
    assert not checker.is_valid("/twilio/voice/p1?step=3", FORM, signature)
    assert not checker.is_valid("/twilio/voice/p1", FORM, signature)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda form: {**form, "Body": "esc 7"},
        lambda form: {**form, "Extra": ""},
        lambda form: {k: v for k, v in form.items() if k != "To"},
    ],
)
def test_changed_form_is_invalid(tamper: object) -> None:
    checker = TwilioSignature([TOKEN], PUBLIC)
    signature = twilio_sign(TOKEN, PUBLIC + "/twilio/sms", FORM)
    assert not checker.is_valid("/twilio/sms", tamper(FORM), signature)  # type: ignore[operator]


def test_wrong_token_host_or_path_is_invalid() -> None:
    checker = TwilioSignature([TOKEN], PUBLIC)
    assert not checker.is_valid(
        "/twilio/sms", FORM, twilio_sign(NEXT_TOKEN, PUBLIC + "/twilio/sms", FORM)
    )
    assert not checker.is_valid(
        "/twilio/sms", FORM, twilio_sign(TOKEN, "https://evil.example.com/twilio/sms", FORM)
    )
    assert not checker.is_valid("/twilio/sms", FORM, twilio_sign(TOKEN, PUBLIC + "/other", FORM))
    assert not checker.is_valid("/twilio/sms", FORM, "not base64 at all")


@pytest.mark.parametrize("signature", [None, ""])
def test_missing_signature_is_invalid(signature: str | None) -> None:
    checker = TwilioSignature([TOKEN], PUBLIC)
    assert not checker.is_valid("/twilio/sms", FORM, signature)


def test_second_token_for_rotation() -> None:
    checker = TwilioSignature([TOKEN, NEXT_TOKEN], PUBLIC)
    for token in (TOKEN, NEXT_TOKEN):
        assert checker.is_valid(
            "/twilio/sms", FORM, twilio_sign(token, PUBLIC + "/twilio/sms", FORM)
        )
    assert not checker.is_valid(
        "/twilio/sms", FORM, twilio_sign("third-token", PUBLIC + "/twilio/sms", FORM)
    )


def test_default_port_either_way_like_twilio() -> None:
    checker = TwilioSignature([TOKEN], PUBLIC)
    with_port = twilio_sign(TOKEN, "https://pager.example.com:443/twilio/sms", FORM)
    assert checker.is_valid("/twilio/sms", FORM, with_port)
    explicit = TwilioSignature([TOKEN], "https://pager.example.com:443")
    assert explicit.is_valid("/twilio/sms", FORM, twilio_sign(TOKEN, PUBLIC + "/twilio/sms", FORM))
    # A non-default port is part of the URL and must match.
    custom = TwilioSignature([TOKEN], "https://pager.example.com:8443")
    assert not custom.is_valid(
        "/twilio/sms", FORM, twilio_sign(TOKEN, PUBLIC + "/twilio/sms", FORM)
    )


def test_no_token_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="token"):
        TwilioSignature(["", ""], PUBLIC)
