"""Real-parts test harness: a Mosquitto broker, a Twilio-compatible server, an SMTP server.

Every end-to-end test and the benchmarks run pager against these instead of mocks:
the real aiomqtt, twilio and aiosmtplib libraries talk to them over real sockets on
127.0.0.1. Each part picks its own free port, so tests never assume 1883/25 are theirs.
"""

from testkit.fake_twilio import CallFlow, FakeTwilio, Fault, TwilioRequest
from testkit.mosquitto import Mosquitto, MosquittoNotInstalled
from testkit.smtp_server import ReceivedMail, SmtpServer

__all__ = [
    "CallFlow",
    "FakeTwilio",
    "Fault",
    "Mosquitto",
    "MosquittoNotInstalled",
    "ReceivedMail",
    "SmtpServer",
    "TwilioRequest",
]
