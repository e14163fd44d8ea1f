"""An aiosmtpd SMTP server on the test's own event loop, recording what it receives.

``await loop.create_server(lambda: SMTP(handler), "127.0.0.1", 0)`` (PLATFORM-NOTES): port
0 works, unlike the threaded Controller, and everything runs on the test's loop.

Options: STARTTLS with a self-signed certificate for 127.0.0.1 (made once per process with
the ``openssl`` command; :meth:`SmtpServer.client_tls_context` trusts it), AUTH
PLAIN/LOGIN with one username/password (mail without it is refused with 530), and
failures: :meth:`SmtpServer.fail_next` answers the next transactions with e.g. 451 or 550
at MAIL, RCPT or DATA; :meth:`SmtpServer.stall` holds every DATA until
:meth:`SmtpServer.resume` (a relay that hangs); :meth:`SmtpServer.drop_connections` closes
the open client connections while still listening (a relay dropping idle sessions).
``connections_opened`` counts the connections accepted so far.
"""

from __future__ import annotations

import asyncio
import atexit
import email
import email.policy
import functools
import shutil
import ssl
import subprocess
import tempfile
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from testkit.lifecycle import Served

Stage = Literal["MAIL", "RCPT", "DATA"]


@dataclass(frozen=True)
class ReceivedMail:
    """One accepted message: the envelope, the parsed message, how the client connected."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes
    tls: bool
    login: str | None

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        """The plain-text body, decoded."""
        part = self.message.get_body(preferencelist=("plain",))
        assert isinstance(part, EmailMessage), "no text/plain part"
        content: str = part.get_content()
        return content


@dataclass(frozen=True)
class _Failure:
    stage: Stage
    reply: str


@functools.cache
def self_signed_cert() -> tuple[Path, Path]:
    """(certificate, key) for IP 127.0.0.1 and localhost, made once per process.

    Raises RuntimeError when the ``openssl`` command is missing.
    """
    tool = shutil.which("openssl")
    if tool is None:
        raise RuntimeError("the openssl command is needed for STARTTLS tests")
    directory = Path(tempfile.mkdtemp(prefix="pager-test-tls-"))
    atexit.register(shutil.rmtree, directory, True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            tool, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "7",
            "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-addext", "basicConstraints=critical,CA:TRUE",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


class SmtpServer(Served):
    """``await start()`` on the test's loop; ``messages`` fills as mail arrives."""

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        if (username is None) != (password is None):
            raise ValueError("give both username and password, or neither")
        self.starttls = starttls
        self.username = username
        self.password = password
        self.messages: list[ReceivedMail] = []
        self.auth_failures = 0
        self.port = 0
        self._failures: list[_Failure] = []
        self._changed = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self._connections: list[SMTP] = []
        self.connections_opened = 0
        self._flowing = asyncio.Event()
        self._flowing.set()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        tls_context = None
        if self.starttls:
            cert, key = self_signed_cert()
            tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls_context.load_cert_chain(cert, key)
        auth = self.username is not None

        def protocol() -> SMTP:
            connection = SMTP(
                self,
                hostname="smtp.test",
                tls_context=tls_context,
                require_starttls=self.starttls,
                # With TLS, AUTH is offered only after STARTTLS, as on a real relay.
                auth_require_tls=self.starttls,
                authenticator=self._authenticate if auth else None,
                loop=loop,
            )
            self._connections.append(connection)
            self.connections_opened += 1
            return connection

        self._server = await loop.create_server(protocol, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and drop connections a client left open."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for connection in self._connections:
            transport = connection.transport
            if transport is not None and not transport.is_closing():
                transport.close()
        self._connections.clear()
        await asyncio.sleep(0)  # let the dropped connections' handlers finish

    def client_tls_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's self-signed certificate."""
        cert, _ = self_signed_cert()
        return ssl.create_default_context(cafile=str(cert))

    # -- test controls -----------------------------------------------------------------

    def fail_next(
        self,
        count: int = 1,
        *,
        code: int = 451,
        stage: Stage = "DATA",
        message: str | None = None,
    ) -> None:
        """Answer ``code`` at ``stage`` in each of the next ``count`` transactions."""
        text = message or ("4.3.0 Try again later" if code < 500 else "5.1.1 Mailbox unavailable")
        self._failures.extend([_Failure(stage, f"{code} {text}")] * count)

    def stall(self) -> None:
        """Hold every DATA (accepted mail included) until :meth:`resume`."""
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    async def drop_connections(self) -> int:
        """Close every open client connection (the server keeps listening); how many."""
        dropped = 0
        for connection in self._connections:
            transport = connection.transport
            if transport is not None and not transport.is_closing():
                transport.close()
                dropped += 1
        await asyncio.sleep(0)
        return dropped

    async def wait_for(
        self,
        count: int,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109  (a default every test would otherwise repeat)
    ) -> list[ReceivedMail]:
        """Wait for ``count`` accepted messages; AssertionError when ``timeout`` passes first."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: len(self.messages) >= count)
        except TimeoutError:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {count} mail(s); got {self.messages!r}"
            ) from None
        return list(self.messages)

    # -- aiosmtpd handler hooks --------------------------------------------------------

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self.username is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        failed = self._take_failure("MAIL")
        if failed:
            return failed
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        failed = self._take_failure("RCPT")
        if failed:
            return failed
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await self._flowing.wait()
        failed = self._take_failure("DATA")
        if failed:
            return failed
        raw = envelope.original_content or b""
        # The wire has CRLF line ends; tests compare with Python's "\n" text.
        message = email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        login = None
        if isinstance(session.auth_data, LoginPassword):
            login = session.auth_data.login.decode()
        self.messages.append(
            ReceivedMail(
                mail_from=envelope.mail_from or "",
                rcpt_tos=tuple(envelope.rcpt_tos),
                message=message,
                raw=raw,
                tls=session.ssl is not None,
                login=login,
            )
        )
        async with self._changed:
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if (
            isinstance(auth_data, LoginPassword)
            and self.username is not None
            and self.password is not None
            and auth_data.login == self.username.encode()
            and auth_data.password == self.password.encode()
        ):
            return AuthResult(success=True, auth_data=auth_data)
        self.auth_failures += 1
        # handled=False: aiosmtpd then answers 535 itself; the default (handled=True)
        # sends nothing and the client hangs.
        return AuthResult(success=False, handled=False)

    def _take_failure(self, stage: Stage) -> str | None:
        if self._failures and self._failures[0].stage == stage:
            return self._failures.pop(0).reply
        return None
