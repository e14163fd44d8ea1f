"""The composition root: the only module that knows every concrete class.

Why one module over 400 lines: it is the composition root, the only place that names
the concrete adapters, and :class:`Daemon`'s methods share the running daemon's state
(config, store, clock, metrics, the stop and reload events); splitting it would spread
that knowledge over several modules.

``Daemon(config_dir, dry_run=...).run()`` builds the store, engine, relay, deadline loop,
MQTT bridge and webhook server from the config, runs them in one TaskGroup, and handles
signals: SIGHUP (and a changed file in the config directory) reloads, SIGTERM/SIGINT
drain and exit 0. READY=1 goes to systemd once the broker, the store and HTTP are up.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pager.adapters.dryrun import DryRunSender, ScratchStore, unguessable_token
from pager.adapters.mqtt import MqttBridge
from pager.adapters.signature import TwilioSignature
from pager.adapters.smtp import SmtpMailer
from pager.adapters.systemd import SystemdNotifier
from pager.adapters.twilio import TwilioSender
from pager.adapters.webhooks import WebhookServer
from pager.config.load import ConfigError, load_config
from pager.core.model import Config, HttpSettings
from pager.core.policy import Policy
from pager.daemon.clock import Clock, SystemClock
from pager.daemon.deadlines import DeadlineLoop
from pager.daemon.events_in import Ingest
from pager.daemon.loop_errors import quiet_closed_socket_callbacks
from pager.daemon.metrics import Metrics
from pager.daemon.outbox.relay import Relay, Senders
from pager.daemon.service import CommitInfo, Service
from pager.daemon.shift_notices import ShiftNotices
from pager.store.open import is_postgres_url, open_store
from pager.store.postgres.node import ELECT_INTERVAL, node_name
from pager.store.types import StoreError
from pager.web.site import StatusSite

if TYPE_CHECKING:  # psycopg is loaded only by a daemon on PostgreSQL (its RSS, its start)
    from pager.store.postgres.store import PostgresStore

log = logging.getLogger("pager")

#: How often another process's commits (``pager ack``) are looked for.
EXTERNAL_POLL = 1.0
#: How long start-up waits for the broker before READY=1 anyway (timers must run).
BROKER_WAIT = 10.0


def configure_logging(level: str | None = None, *, node: str | None = None) -> None:
    """One line per event on stdout, for journald (which adds the time); with ``node``
    (several nodes share a database) every line names the node."""
    prefix = f"[{node}] " if node else ""
    logging.basicConfig(
        level=(level or os.environ.get("PAGER_LOG_LEVEL", "INFO")).upper(),
        format=f"%(levelname)s {prefix}%(name)s: %(message)s",
        stream=sys.stdout,
        force=True,
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


class Daemon:
    def __init__(
        self,
        config_dir: str | Path,
        *,
        dry_run: bool = False,
        store: str | None = None,
        environ: Mapping[str, str] | None = None,
        node: str | None = None,
    ) -> None:
        self.config_dir = Path(config_dir)
        self.dry_run = dry_run
        #: This process's name among several nodes sharing a database (logs, metrics,
        #: the claims it makes in the outbox).
        self.node = node_name(node)
        #: The PostgreSQL store when several nodes may share it (None: SQLite).
        self.shared: PostgresStore | None = None
        # A dry run never opens the configured (live) store: --store, or a scratch one.
        self.scratch = ScratchStore(store) if dry_run else None
        self.environ = dict(os.environ if environ is None else environ)
        self.metrics = Metrics()
        self.metrics.node_info.labels(self.node).set(1)
        #: The daemon's one clock, handed to every part that needs "now".
        self.clock: Clock = SystemClock()
        self.notifier = SystemdNotifier.from_environ(self.environ)
        self._stop = asyncio.Event()
        self._reload = asyncio.Event()
        self.config: Config | None = None

    def _load(self) -> Config:
        return load_config(self.config_dir, require_secrets=not self.dry_run, environ=self.environ)

    async def run(self) -> int:
        """The daemon's whole life; returns the exit code."""
        config = self._load_reporting()
        if config is None:
            return 1
        self.config = config
        service = await self._open_service(config)
        if service is None:
            return 1
        senders = self._senders(config)
        relay, timers = self._delivery(service, senders, config)
        if not await self._recover(relay):
            await self._release(service, senders)
            return 1
        self._wire(config, service, relay, timers)
        self._install_signals()
        if not await self._listen(config.settings.http):
            await self._release(service, senders)
            return 1
        try:
            await self._serve(config.settings.mqtt.url)
        finally:
            await self.webhooks.stop()
            await self._release(service, senders)
        log.info("stopped")
        return 0

    # --- the steps of run ------------------------------------------------------------------

    def _load_reporting(self) -> Config | None:
        """The config, or None after logging every problem with it."""
        try:
            return self._load()
        except ConfigError as exc:
            for issue in exc.issues:
                log.error("config: %s", issue)
            return None

    async def _open_service(self, config: Config) -> Service | None:
        """Open the store and start the service on it; None after logging why not."""
        try:
            url = config.settings.store if self.scratch is None else self.scratch.open()
            store = open_store(url, background=True, node=self.node)
        except (StoreError, ValueError) as exc:
            log.error("store: %s", exc)
            return None
        if is_postgres_url(url):
            from pager.store.postgres.store import PostgresStore

            assert isinstance(store, PostgresStore)
            # Several nodes: every line names the node, and the database's clock decides.
            self.shared = store
            configure_logging(node=self.node)
            self.clock = store.clock
            log.info("node %s on database %s", self.node, store.connected_host)
        service = Service(store, Policy(config))
        await service.start()
        return service

    def _delivery(
        self, service: Service, senders: Senders, config: Config
    ) -> tuple[Relay, DeadlineLoop]:
        """The outbox relay and the deadline loop (not running yet)."""
        relay = Relay(service, senders, config.settings, self.metrics, clock=self.clock)
        timers = DeadlineLoop(service, self.metrics, clock=self.clock)
        return relay, timers

    async def _recover(self, relay: Relay) -> bool:
        """Settle the sends the last process left in flight: found at the provider, or
        queued again. False (logged) when the store cannot be used."""
        try:
            await relay.recover()
        except StoreError as exc:
            log.error("store: %s", exc)
            return False
        return True

    def _wire(self, config: Config, service: Service, relay: Relay, timers: DeadlineLoop) -> None:
        """Build the MQTT bridge, the event ingest and the webhooks, and connect commits
        to what they wake."""
        settings = config.settings
        bridge = MqttBridge(settings.mqtt, on_message=self._on_message, dry_run=self.dry_run)
        self.ingest = Ingest(
            service=service,
            # Dead letters go at QoS 1. Ticket state (retained) goes at QoS 0 and
            # without a task per ticket: the next change republishes it, and it is
            # written on every commit, so it must cost little.
            bridge_publish=lambda topic, payload, retain: bridge.publish(
                topic, payload, retain=retain, qos=1
            ),
            state_publish=lambda topic, payload: bridge.publish_nowait(topic, payload, retain=True),
            settings=settings.mqtt,
            metrics=self.metrics,
            clock=self.clock,
            tier_known=lambda name: self.service.policy.config.tier(name) is not None,
        )
        webhooks = WebhookServer(
            service=service,
            signature=self._signature(config),
            metrics=self.metrics,
            public_url=settings.http.public_url,
            health=lambda: self._health(bridge, service, self.shared),
            clock=self.clock,
        )
        webhooks.mounts.append(StatusSite(service=service, clock=self.clock).mount)
        self.shift_notices = ShiftNotices(service, clock=self.clock)
        self.service, self.relay, self.timers, self.bridge = service, relay, timers, bridge
        self.webhooks = webhooks

        def on_commit(info: CommitInfo) -> None:
            if info.messages:
                relay.wake()
            if info.earliest is not None:
                timers.wake(info.earliest)
            for state in info.tickets.values():
                self.ingest.publish_state(state)

        service.on_commit.append(on_commit)

    async def _listen(self, http: HttpSettings) -> bool:
        """Start the webhook server; False (logged) when the address cannot be bound."""
        try:
            try:
                port = await self.webhooks.start(http.listen_host, http.listen_port)
            except OSError as exc:
                if not (self.dry_run and exc.errno == errno.EADDRINUSE):
                    raise
                # The live daemon's port, most likely: a dry run must not fail because of it.
                log.warning("dry-run: %s (in use); listening on a free port", exc)
                port = await self.webhooks.start(http.listen_host, 0)
        except OSError as exc:
            log.error("cannot listen on %s:%s: %s", http.listen_host, http.listen_port, exc)
            return False
        log.info("webhooks listening on %s:%d", http.listen_host, port)
        return True

    async def _serve(self, broker_url: str) -> None:
        """Run every loop until SIGTERM/SIGINT, then drain in-flight sends."""
        service, relay, timers, bridge = self.service, self.relay, self.timers, self.bridge
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(relay.run(), name="relay"),
                group.create_task(timers.run(), name="timers"),
                group.create_task(bridge.run(), name="mqtt"),
                group.create_task(self._watch_external(service, relay, timers), name="external"),
                group.create_task(self._watch_config(), name="config-watch"),
                group.create_task(self._reloader(), name="reloader"),
                group.create_task(self._watchdog(), name="watchdog"),
                group.create_task(self._gauges(service), name="gauges"),
                group.create_task(self.shift_notices.run(), name="shift-notices"),
            ]
            if self.shared is not None:
                tasks += self._node_tasks(group, self.shared, service, relay, timers)
            if await bridge.wait_connected(BROKER_WAIT):
                log.info("connected to the broker %s", broker_url)
            else:
                log.warning("broker %s not reachable yet; retrying in the background", broker_url)
            # Everything built so far lives as long as the process: keep it out of the
            # collector's generations so full collections stay short under load.
            gc.freeze()
            self.notifier.ready()
            self.notifier.status("running")
            log.info("pager ready (dry-run)" if self.dry_run else "pager ready")
            await self._stop.wait()
            log.info("stopping: draining in-flight sends")
            self.notifier.stopping()
            bridge.stop_consuming()
            await relay.drain()
            for task in tasks:
                task.cancel()

    # --- pieces --------------------------------------------------------------------------

    def _senders(self, config: Config) -> Senders:
        if self.dry_run:
            dry = DryRunSender()
            return Senders(dry, dry, dry)
        t, s = config.settings.twilio, config.settings.smtp
        twilio = TwilioSender(
            account_sid=t.account_sid,
            auth_token=t.auth_token,
            from_number=t.from_number,
            api_base=t.api_base,
        )
        mailer = SmtpMailer(
            host=s.host,
            port=s.port,
            from_address=s.from_address,
            starttls=s.starttls,
            username=s.username,
            password=s.password,
        )
        return Senders(twilio, twilio, mailer)

    async def _release(self, service: Service, senders: Senders) -> None:
        """Close what :meth:`run` opened: the service and its store, the senders (every
        way out of run)."""
        await service.close()
        await self._close_senders(senders)
        if self.scratch is not None:
            self.scratch.close()

    async def _close_senders(self, senders: Senders) -> None:
        for sender in {id(s): s for s in (senders.sms, senders.email)}.values():
            close = getattr(sender, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()

    def _signature(self, config: Config) -> TwilioSignature:
        t = config.settings.twilio
        tokens = [tok for tok in (t.auth_token, t.secondary_auth_token) if tok]
        if not tokens and self.dry_run:  # no secret: every webhook request is refused
            tokens = [unguessable_token()]
        return TwilioSignature(tokens, config.settings.http.public_url)

    def _health(
        self, bridge: MqttBridge, service: Service, shared: PostgresStore | None = None
    ) -> tuple[bool, str]:
        if not bridge.connected:
            return False, "not connected to the broker"
        if not service.store_ok:
            return False, f"store unavailable: {service.store_error}"
        if shared is not None:  # the database is part of the answer
            role = "sending" if shared.is_sender else "standby for sending"
            return True, f"ok: node {self.node}, database {shared.connected_host}, {role}"
        return True, "ok"

    # --- several nodes on PostgreSQL ----------------------------------------------------

    def _node_tasks(
        self,
        group: asyncio.TaskGroup,
        store: PostgresStore,
        service: Service,
        relay: Relay,
        timers: DeadlineLoop,
    ) -> list[asyncio.Task[None]]:
        """The hints listener (other nodes' commits wake the relay and the deadline loop)
        and the sending-role election."""
        from pager.store.postgres.listen import Listener

        self.listener = Listener(
            store.conninfo,
            on_outbox=relay.wake,
            on_deadline=timers.wake,
            own_pid=lambda: store.backend_pid,
        )
        tasks = [group.create_task(self.listener.run(), name="pg-listen")]
        if not self.dry_run:  # a dry run must never take the real sends of the others
            tasks.append(
                group.create_task(self._elect_sender(store, service, relay), name="pg-elect")
            )
        return tasks

    async def _elect_sender(self, store: PostgresStore, service: Service, relay: Relay) -> None:
        """Take the sending role when it is free; then settle the sends the previous
        sender left ``sending`` (looked up at the provider, or queued again)."""
        settled = 0  # the last term (see PostgresStore.term) whose orphans were settled
        while True:
            try:
                await service.db(lambda _e: store.elect())
                term = store.term
                if store.is_sender and term != settled:
                    await relay.recover()
                    settled = term
                    relay.wake()
            except Exception as exc:  # the store is away: try again
                log.debug("sender election: %s", exc)
            await asyncio.sleep(ELECT_INTERVAL)

    async def _on_message(self, topic: str, payload: bytes) -> None:
        await self.ingest.handle(topic, payload)

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self._stop.set)
        loop.add_signal_handler(signal.SIGINT, self._stop.set)
        loop.add_signal_handler(signal.SIGHUP, self._reload.set)

    def request_stop(self) -> None:
        self._stop.set()

    async def _reloader(self) -> None:
        while True:
            await self._reload.wait()
            self._reload.clear()
            await self.reload()

    async def reload(self) -> bool:
        """Load the config again; swap it in atomically if valid, else keep the old one."""
        self.notifier.reloading()
        try:
            config = await asyncio.to_thread(self._load)
        except ConfigError as exc:
            for issue in exc.issues:
                log.error("reload rejected: %s", issue)
            log.error(
                "reload rejected: %d problem(s); the previous config stays in force",
                len(exc.issues),
            )
            self.metrics.reloads.labels("rejected").inc()
            self.metrics.config_valid.set(0)
            self.notifier.ready()
            return False
        old = self.config
        self.config = config
        self.service.swap_policy(Policy(config))
        self.relay.apply_settings(config.settings)
        self.webhooks.update(
            signature=self._signature(config), public_url=config.settings.http.public_url
        )
        if old is not None:
            for part in ("store", "mqtt", "http"):
                if getattr(old.settings, part) != getattr(config.settings, part):
                    log.warning(
                        "reload: %s settings changed; they take effect after a restart", part
                    )
        self.metrics.reloads.labels("ok").inc()
        self.metrics.config_valid.set(1)
        self.timers.wake()
        self.shift_notices.wake()
        self.notifier.ready()
        log.info("config reloaded")
        return True

    async def _watch_config(self) -> None:
        """A changed file in the config directory triggers a reload (debounced)."""
        from watchfiles import awatch

        try:
            async for _changes in awatch(
                self.config_dir, debounce=500, recursive=True, watch_filter=_is_config_file
            ):
                log.info("config directory changed")
                self._reload.set()
        except (OSError, RuntimeError) as exc:
            log.warning(
                "not watching %s for changes: %s (SIGHUP still reloads)", self.config_dir, exc
            )

    async def _watch_external(self, service: Service, relay: Relay, timers: DeadlineLoop) -> None:
        """Commits by another process (``pager ack``) wake the relay and the deadline loop."""
        last: int | None = None
        while True:
            await asyncio.sleep(EXTERNAL_POLL)
            try:
                version = await service.db(lambda e: e.data_version())
            except Exception:
                continue
            if last is not None and version != last:
                relay.wake()
                timers.wake()
            last = version

    async def _watchdog(self) -> None:
        interval = self.notifier.watchdog_interval()
        if interval is None:
            return
        while True:
            self.notifier.watchdog()
            await asyncio.sleep(interval)

    async def _gauges(self, service: Service) -> None:
        """Every second: a heartbeat write (the store's health), and the gauges."""

        while True:
            try:
                open_count, timers = await service.db(lambda e: e.heartbeat(self.clock()))
            except Exception as exc:  # StoreError already marked the store unhealthy
                self.metrics.store_ok.set(0)
                log.debug("store probe failed: %s", exc)
            else:
                service.store_recovered()
                self.metrics.open_tickets.set(open_count)
                self.metrics.timers_armed.set(timers)
                self.metrics.store_ok.set(1)
            self.metrics.broker_connected.set(1 if self.bridge.connected else 0)
            self.ingest.events_log.flush()
            self.relay.sent_log.flush()
            await asyncio.sleep(1.0)


def _is_config_file(_change: object, path: str) -> bool:
    """Only YAML and secret files count: the store may live in the same directory."""
    return path.endswith((".yaml", ".yml", ".secret"))


async def _run_with_handler(daemon: Daemon) -> int:
    asyncio.get_running_loop().set_exception_handler(quiet_closed_socket_callbacks)
    return await daemon.run()


def run_daemon(
    config_dir: str, *, dry_run: bool, store: str | None = None, node: str | None = None
) -> int:
    configure_logging(node=node)
    started = time.monotonic()
    daemon = Daemon(config_dir, dry_run=dry_run, store=store, node=node)
    code = asyncio.run(_run_with_handler(daemon))
    log.debug("ran for %.1fs", time.monotonic() - started)
    return code
