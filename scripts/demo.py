"""`make demo`: a local broker, the daemon in dry-run on the example config, one page.

Starts Mosquitto on a free port, copies the worked example into var/demo/ (voice calls
moved to 0m so all three channels show at once), runs `pager run --dry-run`, publishes a
Severity 1 ticket and shows the SMS, email and voice page it produced. Then it
acknowledges with `pager ack` and shows the ticket's timeline. DEMO_KEEP=1 leaves the
daemon and broker running so you can publish more events yourself.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import yaml

from testkit.daemon import REPO, DaemonProcess, copy_example, write_settings
from testkit.mosquitto import Mosquitto, free_port

WORK = REPO / "var" / "demo"


def say(text: str = "") -> None:
    print(text, flush=True)


def prepare(broker_url: str, http_port: int) -> Path:
    if WORK.exists():
        shutil.rmtree(WORK)
    copy_example(WORK)
    people = yaml.safe_load((WORK / "people.yaml").read_text())
    for person in people["people"].values():
        channels = ["email"] + (["sms", "voice"] if person.get("phone") else [])
        person["notify"] = [{"via": via, "after": "0m"} for via in channels]
    (WORK / "people.yaml").write_text(yaml.safe_dump(people, sort_keys=False))
    write_settings(
        WORK, mqtt_url=broker_url, http_port=http_port, extra={"twilio": {"max_sms_per_second": 1}}
    )
    (WORK / "twilio.secret").unlink()  # a dry run needs no secret: show it
    return WORK


async def publish(url_port: int, event: dict[str, object]) -> None:
    async with aiomqtt.Client(
        "127.0.0.1", url_port, identifier=f"demo-{uuid.uuid4().hex[:6]}"
    ) as client:
        await client.publish(
            f"support/tickets/{event['ticket_id']}/events", json.dumps(event), qos=1
        )


def main() -> int:
    broker = Mosquitto(WORK.parent / "demo-broker")
    broker.start()
    say(f"== broker: mosquitto on {broker.url}")
    config_dir = prepare(broker.url, free_port())
    # A dry run keeps its tickets in a temporary store unless told otherwise: the demo
    # names the config's own store so that `pager timeline` and `pager ack` see them.
    store = f"sqlite:{config_dir / 'state' / 'pager.db'}"
    daemon = DaemonProcess(config_dir, dry_run=True, extra_args=["--store", store])
    try:
        daemon.start()
        say(f"== daemon: pager run -c {config_dir} --dry-run  (ready)")
        oncall = daemon.pager_cli("oncall", "--rotation", "support-engineers")
        say("== who is on call now:")
        say(oncall.stdout.rstrip())
        ticket = f"T-{int(time.time()) % 100000}"
        event = {
            "event_id": str(uuid.uuid4()),
            "ticket_id": ticket,
            "type": "opened",
            "at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "severity": 1,
            "tier": "premier",
            "customer": "Acme Corp",
            "summary": "payment gateway down for all users",
        }
        say(f"== publishing a Severity 1 ticket {ticket} to support/tickets/{ticket}/events")
        mark = len(daemon.lines)
        started = time.monotonic()
        asyncio.run(publish(broker.port, event))
        for channel in ("DRY-RUN sms", "DRY-RUN email", "DRY-RUN voice"):
            daemon.wait_for(channel, timeout=10, since=mark)
        elapsed = time.monotonic() - started
        time.sleep(0.3)
        ms = elapsed * 1000
        say(f"== the page, {ms:.0f} ms after publishing (dry-run prints instead of sending):")
        for line in daemon.lines[mark:]:
            say("   " + line)
        state = daemon.pager_cli("timeline", ticket)
        say(f"== pager timeline {ticket}:")
        say(state.stdout.rstrip())
        owner = _paged_person(daemon.lines[mark:]) or "dung"
        say(f"== acknowledging: pager ack {ticket} --by {owner}")
        acked = daemon.pager_cli("ack", ticket, "--by", owner)
        say("   " + (acked.stdout or acked.stderr).strip())
        say(f"== pager timeline {ticket}:")
        say(daemon.pager_cli("timeline", ticket).stdout.rstrip())
        say()
        say("Without the ack the ladder climbs: rung 2 (duty manager) after 15 minutes, then")
        say("support leadership and the executives;")
        say("`pager simulate -c . examples/sev1-unacked.jsonl` shows the whole ladder")
        say("in virtual time.")
        if os.environ.get("DEMO_KEEP"):
            say(f"DEMO_KEEP: daemon and broker keep running ({broker.url}); Ctrl-C stops.")
            while True:
                time.sleep(3600)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        daemon.stop()
        broker.stop()


def _paged_person(lines: list[str]) -> str | None:
    """The person id of the first page in the daemon's log ("sent sms to <id> ...")."""
    for line in lines:
        if "sent sms to " in line:
            return line.split("sent sms to ", 1)[1].split()[0]
    return None


if __name__ == "__main__":
    sys.exit(main())
