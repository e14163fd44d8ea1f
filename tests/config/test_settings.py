"""pager.yaml: every key, the store forms, and the secrets rules."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pager.config.load import ConfigError
from pager.core.model import Rate, Settings
from tests.config.conftest import ConfigDir


def test_empty_pager_yaml_means_defaults(cfg: ConfigDir) -> None:
    settings = cfg.load().settings
    assert settings == Settings(store="sqlite:/var/lib/pager/pager.db")


def test_every_key_is_read(cfg: ConfigDir) -> None:
    cfg.write("mqtt.secret", "mqtt-pw\n")
    cfg.write("smtp.secret", "smtp-pw\n")
    cfg.write("twilio.secret", "tok-1  \n\n")
    cfg.write("twilio2.secret", "tok-2")
    cfg.write(
        "pager.yaml",
        """\
        store: sqlite:///var/lib/pager/pager.db
        mqtt:
          url: mqtts://broker.example.com:8883
          username: pager
          password_file: mqtt.secret
          client_id: pager-1
          events_topic: desk/+/events
          dead_letter_topic: pager/dlq
          state_topic: pager/{ticket_id}
        twilio:
          account_sid: AC00000000000000000000000000000000
          auth_token_file: twilio.secret
          secondary_auth_token_file: twilio2.secret
          from: +15550000001
          api_base: http://127.0.0.1:9000/
          max_sms_per_second: 2.5
        smtp:
          host: mail.example.com
          port: 587
          starttls: true
          username: pager
          password_file: smtp.secret
          from: Pager <pager@example.com>
        http:
          listen: "[::1]:9025"
          public_url: https://pager.example.com/
        limits:
          sms_per_person: 3/1h
          calls_per_person: 2/30m
        """,
    )
    s = cfg.load(require_secrets=True).settings
    assert s.store == "sqlite:/var/lib/pager/pager.db"
    assert (s.mqtt.url, s.mqtt.username, s.mqtt.password) == (
        "mqtts://broker.example.com:8883",
        "pager",
        "mqtt-pw",
    )
    assert (s.mqtt.client_id, s.mqtt.events_topic) == ("pager-1", "desk/+/events")
    assert (s.mqtt.dead_letter_topic, s.mqtt.state_topic) == ("pager/dlq", "pager/{ticket_id}")
    assert s.twilio.account_sid == "AC00000000000000000000000000000000"
    assert (s.twilio.auth_token, s.twilio.secondary_auth_token) == ("tok-1", "tok-2")
    assert s.twilio.from_number == "+15550000001"  # unquoted: YAML reads an int
    assert (s.twilio.api_base, s.twilio.max_sms_per_second) == ("http://127.0.0.1:9000", 2.5)
    assert (s.smtp.host, s.smtp.port, s.smtp.starttls) == ("mail.example.com", 587, True)
    assert (s.smtp.username, s.smtp.password) == ("pager", "smtp-pw")
    assert s.smtp.from_address == "Pager <pager@example.com>"
    assert (s.http.listen_host, s.http.listen_port) == ("::1", 9025)
    assert s.http.public_url == "https://pager.example.com"
    assert s.limits.sms_per_person == Rate(3, timedelta(hours=1))
    assert s.limits.calls_per_person == Rate(2, timedelta(minutes=30))


@pytest.mark.parametrize(
    ("store", "expected"),
    [
        ("sqlite:///var/lib/pager/pager.db", "sqlite:/var/lib/pager/pager.db"),
        ("sqlite:/srv/pager.db", "sqlite:/srv/pager.db"),
        ("sqlite::memory:", "sqlite::memory:"),
    ],
)
def test_store_forms(cfg: ConfigDir, store: str, expected: str) -> None:
    cfg.write("pager.yaml", f"store: '{store}'\n")
    assert cfg.load().settings.store == expected


def test_relative_store_resolves_against_the_config_dir(cfg: ConfigDir) -> None:
    cfg.write("pager.yaml", "store: sqlite:var/../var/pager.db\n")
    assert cfg.load().settings.store == f"sqlite:{cfg.path.absolute()}/var/pager.db"


def test_pager_store_env_overrides(cfg: ConfigDir, tmp_path: Path) -> None:
    cfg.write("pager.yaml", "store: sqlite:var/pager.db\n")
    environ = {"PAGER_STORE": f"sqlite://{tmp_path}/other.db"}
    assert cfg.load(environ=environ).settings.store == f"sqlite:{tmp_path}/other.db"
    shared = {"PAGER_STORE": "postgresql://pager:pw@db1,db2/pager"}
    assert cfg.load(environ=shared).settings.store == "postgresql://pager:pw@db1,db2/pager"
    bad = {"PAGER_STORE": "mysql://pager:pw@db/pager"}
    assert cfg.issues(environ=bad) == [
        "pager.yaml:1: store: store scheme not supported by this build: 'mysql' "
        "(use sqlite:///ABS/PATH, sqlite:REL/PATH or postgresql://HOST/DB) (from $PAGER_STORE)"
    ]


def test_default_store_is_normalised(cfg: ConfigDir) -> None:
    assert cfg.load().settings.store == "sqlite:/var/lib/pager/pager.db"


@pytest.mark.parametrize(
    ("text", "issue"),
    [
        (
            "bogus: 1",
            "pager.yaml:1: bogus: unknown key 'bogus' "
            "(expected one of: store, mqtt, twilio, smtp, http, limits)",
        ),
        ("stor: x", "pager.yaml:1: stor: unknown key 'stor'; did you mean 'store'?"),
        ("- store", "pager.yaml:1: expected a mapping, got a list"),
        (
            "store: mysql://pager:hunter2@db/pager",
            "pager.yaml:1: store: store scheme not supported by this build: 'mysql' "
            "(use sqlite:///ABS/PATH, sqlite:REL/PATH or postgresql://HOST/DB)",
        ),
        (
            "store: postgresql://pager:hunter2@db",
            "pager.yaml:1: store: store: a PostgreSQL URL needs a database name, e.g. .../pager",
        ),
        (
            "store: sqlite://db/pager.db",
            "pager.yaml:1: store: store: sqlite://HOST/... is not supported; use "
            "sqlite:///ABS/PATH",
        ),
        (
            "store: 'sqlite:'",
            "pager.yaml:1: store: store: sqlite: needs a path, e.g. sqlite:var/pager.db",
        ),
        (
            "store: pager.db",
            "pager.yaml:1: store: store must look like sqlite:///ABS/PATH or sqlite:REL/PATH",
        ),
        ("store: ", "pager.yaml:1: store: expected a string, got an empty value"),
        ("mqtt: [a]", "pager.yaml:1: mqtt: expected a mapping, got a list"),
        (
            "mqtt: {urll: x}",
            "pager.yaml:1: mqtt.urll: unknown key 'urll'; did you mean 'url'?",
        ),
        (
            "mqtt: {url: 'mqtt://pager:hunter2@127.0.0.1:1883'}",
            "pager.yaml:1: mqtt.url: credentials are never accepted in the url; "
            "use username and password_file",
        ),
        (
            "mqtt: {url: 'mqtt://pager:hunter2@127.0.0.1:99999'}",
            "pager.yaml:1: mqtt.url: credentials are never accepted in the url; "
            "use username and password_file",
        ),
        (
            "http: {public_url: 'https://pager:hunter2@pager.example.com'}",
            "pager.yaml:1: http.public_url: credentials are never accepted in the url",
        ),
        (
            "mqtt: {url: 'tcp://127.0.0.1:1883'}",
            "pager.yaml:1: mqtt.url: expected mqtt://HOST:PORT or mqtts://HOST:PORT, "
            "got 'tcp://127.0.0.1:1883'",
        ),
        (
            "mqtt: {url: 'mqtt://127.0.0.1:99999'}",
            "pager.yaml:1: mqtt.url: expected mqtt://HOST:PORT or mqtts://HOST:PORT, "
            "got 'mqtt://127.0.0.1:99999'",
        ),
        (
            "mqtt: {password: hunter2}",
            "pager.yaml:1: mqtt.password: secrets are never accepted inline; "
            "use password_file or PAGER_MQTT_PASSWORD",
        ),
        (
            "mqtt: {dead_letter_topic: 'pager/#'}",
            "pager.yaml:1: mqtt.dead_letter_topic: a topic to publish to cannot contain + or #",
        ),
        (
            "mqtt: {state_topic: 'pager/{ticket}/state'}",
            "pager.yaml:1: mqtt.state_topic: the only placeholder allowed is {ticket_id}",
        ),
        (
            "twilio: {auth_token: hunter2}",
            "pager.yaml:1: twilio.auth_token: secrets are never accepted inline; "
            "use auth_token_file or PAGER_TWILIO_AUTH_TOKEN",
        ),
        (
            "twilio: {secondary_auth_token: hunter2}",
            "pager.yaml:1: twilio.secondary_auth_token: secrets are never accepted inline; "
            "use secondary_auth_token_file or PAGER_TWILIO_SECONDARY_AUTH_TOKEN",
        ),
        (
            "twilio: {from: '5550000001'}",
            "pager.yaml:1: twilio.from: phone '5550000001' is not in E.164 form, e.g. +40700000001",
        ),
        (
            "twilio: {api_base: 'api.twilio.com'}",
            "pager.yaml:1: twilio.api_base: expected an http:// or https:// URL, got "
            "'api.twilio.com'",
        ),
        (
            "twilio: {max_sms_per_second: 0}",
            "pager.yaml:1: twilio.max_sms_per_second: must be more than 0",
        ),
        (
            "twilio: {max_sms_per_second: fast}",
            "pager.yaml:1: twilio.max_sms_per_second: expected a number, got 'fast'",
        ),
        (
            "smtp: {password: hunter2}",
            "pager.yaml:1: smtp.password: secrets are never accepted inline; "
            "use password_file or PAGER_SMTP_PASSWORD",
        ),
        ("smtp: {port: 0}", "pager.yaml:1: smtp.port: must be at least 1, got 0"),
        ("smtp: {port: 70000}", "pager.yaml:1: smtp.port: must be at most 65535, got 70000"),
        ("smtp: {port: smtp}", "pager.yaml:1: smtp.port: expected a whole number, got 'smtp'"),
        (
            "smtp: {starttls: maybe}",
            "pager.yaml:1: smtp.starttls: expected true or false, got 'maybe'",
        ),
        (
            "smtp: {from: pager}",
            "pager.yaml:1: smtp.from: email 'pager' is not an address like ana@example.com",
        ),
        (
            "http: {listen: '8025'}",
            "pager.yaml:1: http.listen: expected HOST:PORT like 127.0.0.1:8025, got '8025'",
        ),
        (
            "http: {listen: '127.0.0.1:http'}",
            "pager.yaml:1: http.listen: expected HOST:PORT like 127.0.0.1:8025, got "
            "'127.0.0.1:http'",
        ),
        (
            "http: {public_url: 'pager.example.com'}",
            "pager.yaml:1: http.public_url: expected an http:// or https:// URL, "
            "got 'pager.example.com'",
        ),
        (
            "limits: {sms_per_person: 10}",
            "pager.yaml:1: limits.sms_per_person: invalid rate '10': expected COUNT/DURATION, "
            "e.g. 10/15m",
        ),
        (
            "limits: {calls_per_person: 0/15m}",
            "pager.yaml:1: limits.calls_per_person: invalid rate '0/15m': the count must be at "
            "least 1",
        ),
    ],
)
def test_settings_issues(cfg: ConfigDir, text: str, issue: str) -> None:
    cfg.write("pager.yaml", text + "\n")
    issues = cfg.issues()
    assert issues == [issue]
    assert "hunter2" not in "\n".join(issues)


def test_secrets_come_from_files_relative_to_the_config_dir(cfg: ConfigDir) -> None:
    cfg.write("secrets/twilio", "tok-from-file\n")
    cfg.write("pager.yaml", "twilio: {auth_token_file: secrets/twilio}\n")
    assert cfg.load().settings.twilio.auth_token == "tok-from-file"


def test_secret_file_paths_expand_environment_variables(cfg: ConfigDir) -> None:
    cfg.write("creds/twilio", "tok-from-credentials\n")
    cfg.write("pager.yaml", "twilio: {auth_token_file: '${CREDENTIALS_DIRECTORY}/twilio'}\n")
    environ = {"CREDENTIALS_DIRECTORY": str(cfg.path / "creds")}
    assert cfg.load(environ=environ).settings.twilio.auth_token == "tok-from-credentials"


def test_environment_secrets_win_over_files(cfg: ConfigDir) -> None:
    cfg.write("twilio.secret", "tok-from-file")
    cfg.write(
        "pager.yaml",
        """\
        mqtt: {username: pager}
        twilio: {auth_token_file: twilio.secret}
        smtp: {username: pager}
        """,
    )
    environ = {
        "PAGER_TWILIO_AUTH_TOKEN": "tok-env\n",
        "PAGER_TWILIO_SECONDARY_AUTH_TOKEN": "tok-env-2",
        "PAGER_SMTP_PASSWORD": "smtp-env",
        "PAGER_MQTT_PASSWORD": "mqtt-env",
    }
    s = cfg.load(environ=environ).settings
    assert (s.twilio.auth_token, s.twilio.secondary_auth_token) == ("tok-env", "tok-env-2")
    assert (s.smtp.password, s.mqtt.password) == ("smtp-env", "mqtt-env")


def test_missing_secret_file_is_fine_unless_secrets_are_required(cfg: ConfigDir) -> None:
    cfg.write(
        "pager.yaml",
        """\
        twilio:
          account_sid: AC00000000000000000000000000000000
          auth_token_file: twilio.secret
          from: "+15550000001"
        """,
    )
    assert cfg.load().settings.twilio.auth_token == ""
    missing = cfg.path / "twilio.secret"
    assert cfg.issues(require_secrets=True) == [
        f"pager.yaml:3: twilio.auth_token_file: cannot read secret file '{missing}': "
        "No such file or directory"
    ]
    cfg.write("twilio.secret", "  \n")
    assert cfg.issues(require_secrets=True) == [
        f"pager.yaml:3: twilio.auth_token_file: secret file '{missing}' is empty"
    ]


def test_required_secrets_and_twilio_identity(cfg: ConfigDir) -> None:
    cfg.write(
        "pager.yaml",
        """\
        mqtt: {username: pager}
        smtp:
          username: pager
        """,
    )
    assert cfg.issues(require_secrets=True) == [
        "pager.yaml: twilio.account_sid: is required to send SMS and calls",
        "pager.yaml: twilio.from: is required to send SMS and calls",
        "pager.yaml: twilio.auth_token: is required: set auth_token_file or "
        "PAGER_TWILIO_AUTH_TOKEN",
        "pager.yaml:1: mqtt.password: is required: set password_file or PAGER_MQTT_PASSWORD",
        "pager.yaml:2: smtp.password: is required: set password_file or PAGER_SMTP_PASSWORD",
    ]


def test_secret_values_never_appear_in_errors_or_reprs(cfg: ConfigDir) -> None:
    cfg.write(
        "pager.yaml",
        """\
        twilio: {auth_token: inline-secret-1}
        smtp: {password: inline-secret-2}
        store: sqlite:///x.db?password=inline-secret-3
        mqtt: {url: "mqtt://u:inline-secret-4@host:1883"}
        http: {public_url: "https://u:inline-secret-5@pager.example.com"}
        """,
    )
    with pytest.raises(ConfigError) as caught:
        cfg.load()
    text = f"{caught.value}\n{caught.value!r}\n{caught.value.issues!r}"
    assert "inline-secret" not in text
    cfg.write("twilio.secret", "file-secret")
    cfg.write("pager.yaml", "twilio: {auth_token_file: twilio.secret}\n")
    environ = {"PAGER_SMTP_PASSWORD": "env-secret", "PAGER_MQTT_PASSWORD": "env-secret"}
    config = cfg.load(environ=environ)
    assert config.settings.twilio.auth_token == "file-secret"
    assert "secret" not in repr(config.settings).replace("twilio.secret", "")
