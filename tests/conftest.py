"""Shared fixtures: the real broker, the fake Twilio, the SMTP server (tests/harness).

Nothing here skips: a machine without Mosquitto fails the tests that need it, with the
command that fixes it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pager.adapters.twilio import TwilioSender
from testkit.fake_twilio import FakeTwilio
from testkit.mosquitto import Mosquitto, MosquittoNotInstalled
from testkit.postgres import PostgresCluster, PostgresNotInstalled
from testkit.smtp_server import SmtpServer

#: The sending number of :func:`twilio_sender`.
TWILIO_FROM = "+15550000001"


def _new_broker(workdir: Path, **options: Any) -> Mosquitto:
    try:
        return Mosquitto(workdir, **options)
    except MosquittoNotInstalled as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A started, anonymous, non-persistent broker on 127.0.0.1:<free port>."""
    broker = _new_broker(tmp_path / "mosquitto")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def mosquitto_factory(tmp_path: Path) -> Iterator[Callable[..., Mosquitto]]:
    """``make(**options)`` starts a broker with Mosquitto's options (e.g. persistence=True).

    Every broker made is stopped at teardown.
    """
    brokers: list[Mosquitto] = []

    def make(**options: Any) -> Mosquitto:
        broker = _new_broker(tmp_path / f"mosquitto-{len(brokers)}", **options)
        brokers.append(broker)
        broker.start()
        return broker

    try:
        yield make
    finally:
        for broker in brokers:
            broker.stop()


@pytest.fixture
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    """A started Twilio-compatible server; ``.api_base``, ``.account_sid``, ``.auth_token``."""
    async with FakeTwilio() as fake:
        yield fake


@pytest.fixture
async def twilio_sender(fake_twilio: FakeTwilio) -> AsyncIterator[TwilioSender]:
    """pager's real TwilioSender (the twilio library) pointed at ``fake_twilio``."""
    sender = TwilioSender(
        account_sid=fake_twilio.account_sid,
        auth_token=fake_twilio.auth_token,
        from_number=TWILIO_FROM,
        api_base=fake_twilio.api_base,
        timeout=2.0,
    )
    yield sender
    await sender.close()


@pytest.fixture
async def smtp_server() -> AsyncIterator[SmtpServer]:
    """A started plain SMTP server (no TLS, no AUTH) on 127.0.0.1:<free port>."""
    async with SmtpServer() as server:
        yield server


# --- PostgreSQL (the several-nodes store) ---------------------------------------------------


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One throw-away PostgreSQL cluster for the whole test session (testkit/postgres.py):
    its own temp dir, 127.0.0.1 and a free port; never the machine's default cluster."""
    try:
        cluster = PostgresCluster()
    except PostgresNotInstalled as exc:
        pytest.fail(str(exc), pytrace=False)
    with cluster:
        yield cluster


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> str:
    """The URL of a fresh, empty database of the session's cluster (one per test)."""
    return postgres_cluster.new_database()
