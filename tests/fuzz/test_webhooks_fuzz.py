"""Fuzzing the webhook door in-process: hostile requests against the real aiohttp app.

Every request gets a deliberate answer (200/204 TwiML or empty, 400, 403, 404, 405, 413),
never a 500 or a dropped connection; afterwards the server still serves /healthz 200 and
a properly signed SMS reply still works. Requests come from
:meth:`testkit.chaos_fuzz.Mutator.webhook` (garbage forms, signed and not, odd
headers, paths and sizes) and :meth:`~testkit.chaos_fuzz.Mutator.raw_webhook`
(bytes no client library would send).
"""

from __future__ import annotations

import os
from urllib.parse import urlencode

import aiohttp
from aiohttp.test_utils import TestServer

from pager.adapters.signature import compute_signature
from testkit.chaos_fuzz import InProcessPager, LogProbe, fuzz_webhooks, server_errors
from testkit.chaos_rig import PHONES

SEED = int(os.environ.get("PAGER_FUZZ_SEED") or 20261123)


async def test_webhooks_survive_hostile_requests(
    pager: InProcessPager, log_probe: LogProbe
) -> None:
    server = TestServer(pager.webhooks.app())
    await server.start_server()
    try:
        base = str(server.make_url("")).rstrip("/")
        sent, problems = await fuzz_webhooks(base, pager.signature, pager.token, 1500, SEED)
        # A genuine reply still works afterwards.
        form = {"From": PHONES["ana"], "Body": "help", "MessageSid": "SM-after-the-fuzz"}
        url = pager.signature.url_for("/twilio/sms")
        headers = {
            "X-Twilio-Signature": compute_signature(pager.token, url, form),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(base + "/twilio/sms", data=urlencode(form), headers=headers) as resp,
        ):
            if resp.status != 200 or "<Message>" not in await resp.text():
                problems.append(f"a signed 'help' after the fuzzing got {resp.status}")
    finally:
        await server.close()
    problems += [f"server error: {crash}" for crash in server_errors(log_probe.lines)]
    problems += [f"unwritable log line: {f}" for f in log_probe.failures[:5]]
    assert sent >= 1500
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:30])
