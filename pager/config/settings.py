"""``pager.yaml`` -> :class:`~pager.core.model.Settings`, secrets included.

Why one module over 400 lines: :class:`SettingsParser` is one class whose per-section
methods share its issue reporter, config directory and environment (for secrets), and
the value parsers they all use.

Secrets (Twilio auth tokens, SMTP and MQTT passwords) come from the environment variable
when it is set and non-empty, else from the ``*_file`` named in the config (relative to
the config directory; ``${VAR}`` in the path is expanded from the environment, e.g.
``${CREDENTIALS_DIRECTORY}/twilio`` for systemd credentials; trailing whitespace is
stripped). A secret written inline is always an issue. A secret that cannot be found is an
issue only with ``require_secrets``. No message ever contains a secret's value.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from pager.config import values
from pager.config.fields import Fields
from pager.config.yamltree import YMap, YNode, join
from pager.core.model import (
    HttpSettings,
    Limits,
    MqttSettings,
    Settings,
    SmtpSettings,
    TwilioSettings,
)
from pager.store.open import is_postgres_url

DEFAULT_STORE = "sqlite:///var/lib/pager/pager.db"
STORE_ENV = "PAGER_STORE"

_SECTIONS = ("store", "mqtt", "twilio", "smtp", "http", "limits")


@dataclass(frozen=True, slots=True)
class _Secret:
    """An inline key that must not exist, the ``*_file`` key that replaces it, its env var."""

    inline: str
    file_key: str
    env: str


_MQTT_PASSWORD = _Secret("password", "password_file", "PAGER_MQTT_PASSWORD")
_TWILIO_TOKEN = _Secret("auth_token", "auth_token_file", "PAGER_TWILIO_AUTH_TOKEN")
_TWILIO_SECONDARY = _Secret(
    "secondary_auth_token", "secondary_auth_token_file", "PAGER_TWILIO_SECONDARY_AUTH_TOKEN"
)
_SMTP_PASSWORD = _Secret("password", "password_file", "PAGER_SMTP_PASSWORD")
_STATUS_AUTH = _Secret("status_auth", "status_auth_file", "PAGER_STATUS_AUTH")


def parse_store(text: str, directory: Path) -> str:
    """``sqlite:///ABS/PATH`` or ``sqlite:REL/PATH`` (relative to ``directory``) ->
    ``sqlite:/abs/path``; ``sqlite::memory:`` stays as is; ``postgresql://...`` (or
    ``postgres://``) stays as written. Raises ``ValueError``; the
    message names only the scheme, never the rest (a URL may carry a password)."""
    scheme, colon, rest = text.strip().partition(":")
    if not colon:
        raise ValueError("store must look like sqlite:///ABS/PATH or sqlite:REL/PATH")
    if is_postgres_url(text.strip()):
        return _postgres_url(text.strip())
    if scheme.lower() != "sqlite":
        raise ValueError(
            f"store scheme not supported by this build: '{scheme}' "
            "(use sqlite:///ABS/PATH, sqlite:REL/PATH or postgresql://HOST/DB)"
        )
    if rest == ":memory:":
        return "sqlite::memory:"
    if rest.startswith("///"):
        path = Path("/" + rest[3:].lstrip("/"))
    elif rest.startswith("//"):
        raise ValueError("store: sqlite://HOST/... is not supported; use sqlite:///ABS/PATH")
    elif rest.startswith("/"):
        path = Path("/" + rest.lstrip("/"))
    elif rest:
        path = directory / rest
    else:
        raise ValueError("store: sqlite: needs a path, e.g. sqlite:var/pager.db")
    return "sqlite:" + os.path.normpath(path.absolute())


def _postgres_url(url: str) -> str:
    """A libpq URL (several nodes share the database), kept as written; ValueError when
    libpq cannot parse it (the message never repeats the URL: it may carry a password)."""
    from psycopg import ProgrammingError, conninfo

    try:
        parts = conninfo.conninfo_to_dict(url)
    except ProgrammingError:
        raise ValueError(
            "store: not a valid PostgreSQL URL (postgresql://USER@HOST[:PORT][,HOST2...]/DB)"
        ) from None
    if not parts.get("dbname"):
        raise ValueError("store: a PostgreSQL URL needs a database name, e.g. .../pager")
    return url


class SettingsParser:
    """Reads one ``pager.yaml`` tree; every problem is reported through ``fields``."""

    def __init__(
        self,
        fields: Fields,
        directory: Path,
        environ: Mapping[str, str],
        require_secrets: bool,
    ) -> None:
        self._f = fields
        self._dir = directory
        self._env = environ
        self._require = require_secrets

    def parse(self, root: YNode | None) -> Settings:
        """The settings; defaults stand in for every value that had an issue, so the
        result is only meaningful when no issue was reported."""
        top: dict[str, YNode] = {}
        if root is not None:
            top = self._f.fields(root, "", _SECTIONS) or {}
        return Settings(
            store=self._store(top.get("store")),
            mqtt=self._mqtt(top.get("mqtt")),
            twilio=self._twilio(top.get("twilio")),
            smtp=self._smtp(top.get("smtp")),
            http=self._http(top.get("http")),
            limits=self._limits(top.get("limits")),
        )

    # --- sections --------------------------------------------------------------------

    def _store(self, node: YNode | None) -> str:
        override = self._env.get(STORE_ENV, "").strip()
        text = override or DEFAULT_STORE
        if not override and node is not None:
            text = self._f.text(node, "store") or DEFAULT_STORE
        try:
            return parse_store(text, self._dir)
        except ValueError as err:
            source = f" (from ${STORE_ENV})" if override else ""
            self._f.report(node.line if node is not None else 0, "store", f"{err}{source}")
            return DEFAULT_STORE

    def _section(
        self, node: YNode | None, name: str, allowed: tuple[str, ...], secrets: tuple[_Secret, ...]
    ) -> dict[str, YNode]:
        if node is None:
            return {}
        if isinstance(node, YMap):
            for secret in secrets:
                entry = node.entries.get(secret.inline)
                if entry is not None:
                    self._f.report(
                        entry.key_line,
                        join(name, secret.inline),
                        f"secrets are never accepted inline; use {secret.file_key} or {secret.env}",
                    )
        keys = allowed + tuple(secret.inline for secret in secrets)
        found = self._f.fields(node, name, keys)
        if found is None:
            return {}
        for secret in secrets:
            found.pop(secret.inline, None)
        return found

    def _mqtt(self, node: YNode | None) -> MqttSettings:
        keys: tuple[str, ...] = ("url", "username", "password_file", "client_id")
        keys += ("events_topic", "dead_letter_topic", "state_topic")
        f = self._section(node, "mqtt", keys, (_MQTT_PASSWORD,))
        d = MqttSettings()
        username = self._opt_text(f, "mqtt", "username")
        line = node.line if node is not None else 0
        password = self._secret(f, "mqtt", _MQTT_PASSWORD, required=username is not None, line=line)
        return MqttSettings(
            url=self._mqtt_url(f.get("url"), d.url),
            username=username,
            password=password,
            client_id=self._opt_text(f, "mqtt", "client_id") or d.client_id,
            events_topic=self._topic(f, "events_topic", d.events_topic, wildcards=True),
            dead_letter_topic=self._topic(f, "dead_letter_topic", d.dead_letter_topic),
            state_topic=self._state_topic(f, d.state_topic),
        )

    def _twilio(self, node: YNode | None) -> TwilioSettings:
        keys: tuple[str, ...] = ("account_sid", "auth_token_file", "secondary_auth_token_file")
        keys += ("from",)
        keys += ("api_base", "max_sms_per_second")
        f = self._section(node, "twilio", keys, (_TWILIO_TOKEN, _TWILIO_SECONDARY))
        d = TwilioSettings()
        line = node.line if node is not None else 0
        account_sid = self._opt_text(f, "twilio", "account_sid") or ""
        from_number = ""
        if "from" in f:
            from_number = (
                self._f.parsed(f["from"], "twilio.from", values.parse_phone, "a phone number") or ""
            )
        if self._require:
            if not account_sid and "account_sid" not in f:
                self._f.report(line, "twilio.account_sid", "is required to send SMS and calls")
            if not from_number and "from" not in f:
                self._f.report(line, "twilio.from", "is required to send SMS and calls")
        token = self._secret(f, "twilio", _TWILIO_TOKEN, required=True, line=line)
        secondary = self._secret(f, "twilio", _TWILIO_SECONDARY, required=False)
        rate = d.max_sms_per_second
        if "max_sms_per_second" in f:
            number = self._f.number(f["max_sms_per_second"], "twilio.max_sms_per_second")
            if number is not None and number <= 0:
                self._f.report(
                    f["max_sms_per_second"], "twilio.max_sms_per_second", "must be more than 0"
                )
            elif number is not None:
                rate = number
        return TwilioSettings(
            account_sid=account_sid,
            auth_token=token or "",
            secondary_auth_token=secondary,
            from_number=from_number,
            api_base=self._url(f.get("api_base"), "twilio.api_base", d.api_base),
            max_sms_per_second=rate,
        )

    def _smtp(self, node: YNode | None) -> SmtpSettings:
        keys = ("host", "port", "starttls", "username", "password_file", "from")
        f = self._section(node, "smtp", keys, (_SMTP_PASSWORD,))
        d = SmtpSettings()
        username = self._opt_text(f, "smtp", "username")
        port = d.port
        if "port" in f:
            port = self._port(f["port"], "smtp.port", minimum=1) or d.port
        starttls = d.starttls
        if "starttls" in f:
            flag = self._f.boolean(f["starttls"], "smtp.starttls")
            starttls = d.starttls if flag is None else flag
        from_address = d.from_address
        if "from" in f:
            from_address = self._f.parsed(f["from"], "smtp.from", _mail_from, "an address") or ""
        return SmtpSettings(
            host=self._opt_text(f, "smtp", "host") or d.host,
            port=port,
            starttls=starttls,
            username=username,
            password=self._secret(
                f,
                "smtp",
                _SMTP_PASSWORD,
                required=username is not None,
                line=node.line if node is not None else 0,
            ),
            from_address=from_address,
        )

    def _http(self, node: YNode | None) -> HttpSettings:
        allowed = ("listen", "public_url", "status_auth_file")
        f = self._section(node, "http", allowed, (_STATUS_AUTH,))
        d = HttpSettings()
        host, port = d.listen_host, d.listen_port
        if "listen" in f:
            listen = self._f.text(f["listen"], "http.listen", 'a "HOST:PORT" string')
            if listen is not None:
                parsed = _host_port(listen)
                if parsed is None:
                    self._f.report(
                        f["listen"],
                        "http.listen",
                        f"expected HOST:PORT like 127.0.0.1:8025, got {listen!r}",
                    )
                else:
                    host, port = parsed
        return HttpSettings(
            listen_host=host,
            listen_port=port,
            public_url=self._url(f.get("public_url"), "http.public_url", d.public_url),
            status_secret=self._secret(f, "http", _STATUS_AUTH, required=False),
        )

    def _limits(self, node: YNode | None) -> Limits:
        f = self._section(node, "limits", ("sms_per_person", "calls_per_person"), ())
        d = Limits()
        sms, calls = d.sms_per_person, d.calls_per_person
        if "sms_per_person" in f:
            sms = (
                self._f.parsed(
                    f["sms_per_person"],
                    "limits.sms_per_person",
                    values.parse_rate,
                    "a rate like 10/15m",
                )
                or sms
            )
        if "calls_per_person" in f:
            calls = (
                self._f.parsed(
                    f["calls_per_person"],
                    "limits.calls_per_person",
                    values.parse_rate,
                    "a rate like 5/15m",
                )
                or calls
            )
        return Limits(sms_per_person=sms, calls_per_person=calls)

    # --- helpers ---------------------------------------------------------------------

    def _opt_text(self, f: dict[str, YNode], section: str, key: str) -> str | None:
        node = f.get(key)
        return None if node is None else self._f.text(node, join(section, key))

    def _secret(
        self,
        f: dict[str, YNode],
        section: str,
        secret: _Secret,
        *,
        required: bool,
        line: int = 0,
    ) -> str | None:
        """The secret, or None. Issues: unreadable/empty file or missing secret, only
        when secrets are required."""
        from_env = self._env.get(secret.env, "").rstrip()
        if from_env:
            return from_env
        node = f.get(secret.file_key)
        path = join(section, secret.file_key)
        if node is None:
            if self._require and required:
                self._f.report(
                    line,
                    join(section, secret.inline),
                    f"is required: set {secret.file_key} or {secret.env}",
                )
            return None
        name = self._f.text(node, path, "a file name")
        if name is None:
            return None
        file = self._dir / _expand(name, self._env)
        try:
            value = file.read_text(encoding="utf-8").rstrip()
        except (OSError, UnicodeDecodeError) as err:
            if self._require:
                reason = err.strerror if isinstance(err, OSError) and err.strerror else "not UTF-8"
                self._f.report(node, path, f"cannot read secret file '{file}': {reason}")
            return None
        if not value:
            if self._require:
                self._f.report(node, path, f"secret file '{file}' is empty")
            return None
        return value

    def _mqtt_url(self, node: YNode | None, default: str) -> str:
        if node is None:
            return default
        text = self._f.text(node, "mqtt.url")
        if text is None:
            return default
        parts = urlsplit(text)
        if "@" in parts.netloc:  # checked first: the message must not echo a password
            self._f.report(
                node,
                "mqtt.url",
                "credentials are never accepted in the url; use username and password_file",
            )
            return default
        if (
            not _valid_port(parts)
            or parts.scheme not in ("mqtt", "mqtts")
            or not parts.hostname
            or parts.path not in ("", "/")
        ):
            self._f.report(
                node, "mqtt.url", f"expected mqtt://HOST:PORT or mqtts://HOST:PORT, got {text!r}"
            )
            return default
        return text

    def _topic(
        self, f: dict[str, YNode], key: str, default: str, *, wildcards: bool = False
    ) -> str:
        node = f.get(key)
        if node is None:
            return default
        text = self._f.text(node, join("mqtt", key))
        if text is None:
            return default
        if not wildcards and ("+" in text or "#" in text):
            self._f.report(node, join("mqtt", key), "a topic to publish to cannot contain + or #")
        return text

    def _state_topic(self, f: dict[str, YNode], default: str) -> str:
        text = self._topic(f, "state_topic", default)
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        except ValueError:
            names = {"?"}
        if names - {"ticket_id"}:
            self._f.report(
                f["state_topic"],
                "mqtt.state_topic",
                "the only placeholder allowed is {ticket_id}",
            )
        return text

    def _url(self, node: YNode | None, path: str, default: str) -> str:
        if node is None:
            return default
        text = self._f.text(node, path)
        if text is None:
            return default
        parts = urlsplit(text)
        if "@" in parts.netloc:
            self._f.report(node, path, "credentials are never accepted in the url")
            return default
        if parts.scheme not in ("http", "https") or not parts.netloc:
            self._f.report(node, path, f"expected an http:// or https:// URL, got {text!r}")
            return default
        return text.rstrip("/")

    def _port(self, node: YNode, path: str, *, minimum: int = 0) -> int | None:
        port = self._f.integer(node, path, minimum=minimum)
        if port is not None and port > 65535:
            self._f.report(node, path, f"must be at most 65535, got {port}")
            return None
        return port


def _valid_port(parts: SplitResult) -> bool:
    try:
        return parts.port is None or parts.port > 0
    except ValueError:  # out of range or not a number
        return False


def _expand(name: str, environ: Mapping[str, str]) -> str:
    """``${VAR}`` / ``$VAR`` from ``environ``; unknown variables are left as written."""

    def replace(match: re.Match[str]) -> str:
        var = match.group(1) or match.group(2)
        return environ.get(var, match.group(0))

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", replace, name)


def _host_port(text: str) -> tuple[str, int] | None:
    host, colon, port = text.rpartition(":")
    if not colon or not port.isdigit() or not host or int(port) > 65535:
        return None
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def _mail_from(text: str) -> str:
    """``pager@example.com`` or ``Pager <pager@example.com>``."""
    _, address = parseaddr(text)
    values.parse_email(address or text)
    return text
