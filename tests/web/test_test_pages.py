"""Test pages: the outbox row, confirming by SMS code and by key 4, the command, the page."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from pager.cli.main import main
from pager.core.policy import Policy
from pager.daemon import replies_in, test_pages
from pager.daemon.engine import Engine
from pager.store.sqlite.store import SqliteStore
from tests.web.conftest import Client
from tests.web.rig import NOW, SECRET, load, make_config_dir

BEARER = {"Authorization": f"Bearer {SECRET}"}


def rows_of(store: SqliteStore, ticket_id: str) -> list[tuple[str, str, str | None, str]]:
    return [
        (r.channel, r.kind, r.code, r.body)
        for r in store.pending_messages(NOW)
        if r.ticket_id == ticket_id
    ]


def test_sms_test_page_is_confirmed_by_its_code(tmp_path: Path) -> None:
    config = load(make_config_dir(tmp_path))
    store = SqliteStore(tmp_path / "pager.db")
    engine = Engine(store, Policy(config))
    with store.transaction():
        assert test_pages.queue(engine, config, "ana", "sms", NOW) is not None
    ((channel, kind, code, body),) = rows_of(store, "test:ana")
    assert (channel, kind) == ("sms", "test") and code is not None
    assert body.startswith("pager TEST PAGE (not an incident)") and f"Reply {code}" in body
    assert test_pages.last_passed(engine, "ana") is None
    with store.transaction():
        answer = replies_in.handle_sms(engine, "ana", code, NOW)
    assert answer == test_pages.ACK_TEXT
    assert test_pages.last_passed(engine, "ana") == NOW
    assert store.codes_of("ana") == {}  # the code is freed: a second reply applies nothing
    with store.transaction():
        assert replies_in.handle_sms(engine, "ana", code, NOW).startswith("No open page")
    store.close()


def test_ack_all_confirms_a_test_page_too(tmp_path: Path) -> None:
    config = load(make_config_dir(tmp_path))
    store = SqliteStore(tmp_path / "pager.db")
    engine = Engine(store, Policy(config))
    with store.transaction():
        test_pages.queue(engine, config, "ana", "sms", NOW)
        assert replies_in.handle_sms(engine, "ana", "ack all", NOW) == test_pages.ACK_TEXT
    assert test_pages.last_passed(engine, "ana") == NOW
    store.close()


def test_voice_test_page_is_confirmed_by_key_4(tmp_path: Path) -> None:
    config = load(make_config_dir(tmp_path))
    store = SqliteStore(tmp_path / "pager.db")
    engine = Engine(store, Policy(config))
    with store.transaction():
        row = test_pages.queue(engine, config, "ana", "voice", NOW)
    assert row is not None
    message = store.message(row)
    assert message is not None and message.token
    twiml = replies_in.voice_twiml(engine, message.token, "http://x")
    assert "test page from pager" in twiml and "Press 4" in twiml
    assert "Not confirmed" not in replies_in.voice_gather(
        engine, message.token, "9", NOW, "http://x"
    )
    assert test_pages.last_passed(engine, "ana") is None
    with store.transaction():
        said = replies_in.voice_gather(engine, message.token, "4", NOW, "http://x")
    assert "Test page confirmed" in said
    assert test_pages.last_passed(engine, "ana") == NOW
    store.close()


def test_command_waits_for_the_confirmation(tmp_path: Path, capsys: object) -> None:
    cfg = make_config_dir(tmp_path)
    config = load(cfg)
    path = cfg / "var" / "pager.db"
    path.parent.mkdir()
    SqliteStore(path).close()  # the daemon's store exists
    codes: list[int] = []

    def the_person_answers() -> None:
        store = SqliteStore(path)
        engine = Engine(store, Policy(config))
        for _ in range(100):
            found = store.codes_of("ana")
            if found:
                with store.transaction():
                    # The daemon's clock: after the command's.
                    replies_in.handle_sms(engine, "ana", next(iter(found)), datetime.now(UTC))
                codes.append(1)
                break
            time.sleep(0.05)
        store.close()

    helper = threading.Thread(target=the_person_answers)
    helper.start()
    assert main(["test-page", "ana", "-c", str(cfg), "--timeout", "10s"]) == 0
    helper.join()
    assert codes == [1]
    # Nobody answers: exit 1 after the timeout.
    assert main(["test-page", "linh", "-c", str(cfg), "--timeout", "1s"]) == 1
    assert main(["test-page", "nobody", "-c", str(cfg), "--timeout", "1s"]) == 2


async def test_status_page_shows_the_last_confirmation(rig: tuple[Client, object]) -> None:
    client, service = rig
    people = await (await client.get("/api/people", headers=BEARER)).json()
    ana = next(p for p in people["people"] if p["id"] == "ana")
    assert ana == {"id": "ana", "name": "Ana Dobre", "last_test_passed": None}

    def confirm(engine: Engine) -> None:
        test_pages.queue(engine, engine.policy.config, "ana", "sms", NOW)
        test_pages.acknowledge(engine, "test:ana", "ana", "sms", NOW)

    await service.db(confirm)  # type: ignore[attr-defined]
    people = await (await client.get("/api/people", headers=BEARER)).json()
    ana = next(p for p in people["people"] if p["id"] == "ana")
    assert ana["last_test_passed"] == "2026-12-02T10:00:00Z"
    page = await (await client.get("/status/people", headers=BEARER)).text()
    row = page[page.index('<tr data-person="ana">') :]
    assert "2026-12-02T10:00:00Z" in row[: row.index("</tr>")]
