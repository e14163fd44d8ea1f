"""Through the real `pager run` child (tests/e2e's rig: real Mosquitto, fake Twilio, SMTP):
the status page is mounted and guarded, a shift notice arrives as an SMS, and a test page
goes out and is confirmed by its code."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import yaml

from tests.e2e.conftest import PHONES, MakeRig, PagerRig

SECRET = "e2e-status-secret"


def enable_status_page(rig: PagerRig) -> None:
    settings_file = rig.config_dir / "pager.yaml"
    settings = yaml.safe_load(settings_file.read_text())
    settings["http"]["status_auth_file"] = "status.secret"
    settings_file.write_text(yaml.safe_dump(settings, sort_keys=False))
    (rig.config_dir / "status.secret").write_text(SECRET + "\n")


async def test_status_page_and_shift_notice_through_the_daemon(make_rig: MakeRig) -> None:
    rig = await make_rig(start=False, voice_after=None)
    enable_status_page(rig)
    # bob opts in and an override makes him take eng's pages 4 s after now.
    people_file = rig.config_dir / "people.yaml"
    people = yaml.safe_load(people_file.read_text())
    people["people"]["bob"]["notify_shift"] = {"via": "sms"}
    people_file.write_text(yaml.safe_dump(people, sort_keys=False))
    starts = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
    rotation_file = rig.config_dir / "rotations" / "eng.yaml"
    rotation = yaml.safe_load(rotation_file.read_text())
    rotation["overrides"] = [
        {
            "person": "bob",
            "from": starts.isoformat(),
            "to": (starts + timedelta(hours=1)).isoformat(),
        }
    ]
    rotation_file.write_text(yaml.safe_dump(rotation, sort_keys=False))
    await rig.daemon.astart()

    status, text = await rig.get("/status")
    assert status == 401 and 'name="password"' in text
    session = await rig.http()
    async with session.get(
        rig.base_url + "/api/oncall", headers={"Authorization": f"Bearer {SECRET}"}
    ) as response:
        assert response.status == 200
        oncall = await response.json()
    (eng,) = oncall["rotations"]
    assert eng["person"] == {"id": "ana", "name": "Ana Example"}
    assert eng["next_person"] == {"id": "bob", "name": "Bob Example"}
    assert "+1555" not in str(oncall) and "@example.com" not in str(oncall)
    assert (await rig.get("/healthz"))[0] in (200, 503)  # its own rules

    [notice] = await rig.wait_sms("bob", timeout=20)
    assert notice.body is not None and "you are on call now for eng" in notice.body
    assert notice.at is not None


async def test_test_page_is_sent_and_confirmed(make_rig: MakeRig) -> None:
    rig = await make_rig(voice_after=None)
    # The daemon notices another process's commit by polling SQLite's data_version once a
    # second, from a baseline taken at its first poll: a commit before that is missed.
    await asyncio.sleep(2.5)
    command = asyncio.create_task(rig.daemon.acli("test-page", "ana", "--timeout", "30s"))
    [sms] = await rig.wait_sms("ana", timeout=20)
    assert sms.body is not None and sms.body.startswith("pager TEST PAGE (not an incident)")
    found = re.search(r"Reply (\w+) to confirm", sms.body)
    assert found, sms.body
    status, answer = await rig.twilio.send_inbound_sms(
        f"{rig.base_url}/twilio/sms", from_=PHONES["ana"], body=found.group(1)
    )
    assert status == 200 and "your phone works" in answer, answer
    done = await command
    assert done.returncode == 0, done.stderr
    assert "PASSED: Ana Example confirmed" in done.stdout
