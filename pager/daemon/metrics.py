"""Prometheus metrics (SPEC section 7), on a registry of their own per daemon instance."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Every metric the daemon exports; one instance per daemon (tests make many)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.events_in = Counter(
            "pager_events_total", "Ticket events received", ["type"], registry=r
        )
        self.events_rejected = Counter(
            "pager_events_rejected_total", "Events dead-lettered", ["reason"], registry=r
        )
        self.events_duplicate = Counter(
            "pager_events_duplicate_total", "Repeated event ids ignored", registry=r
        )
        self.pages = Counter(
            "pager_notifications_total",
            "Notifications by channel and outcome (sent, retry, failed, fallback, bundled,"
            " recovered: found at the provider after a crash, not sent again)",
            ["channel", "outcome"],
            registry=r,
        )
        self.provider_latency = Histogram(
            "pager_provider_latency_seconds",
            "Time a provider took to accept a message",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.event_to_first_page = Histogram(
            "pager_event_to_first_page_seconds",
            "From receiving an opened event to the provider accepting its first page",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.open_tickets = Gauge("pager_open_tickets", "Open tickets", registry=r)
        self.timers_armed = Gauge(
            "pager_timers_armed", "Tickets with an armed deadline", registry=r
        )
        self.deadline_lateness = Histogram(
            "pager_deadline_lateness_seconds",
            "How late a deadline fired",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.webhooks = Counter(
            "pager_webhooks_total",
            "Webhook requests by route and outcome",
            ["route", "outcome"],
            registry=r,
        )
        self.reloads = Counter(
            "pager_config_reloads_total",
            "Config reloads by outcome (ok, rejected)",
            ["outcome"],
            registry=r,
        )
        self.config_valid = Gauge(
            "pager_config_last_reload_ok",
            "1 when the last reload was accepted, 0 when rejected",
            registry=r,
        )
        self.config_valid.set(1)
        self.broker_connected = Gauge(
            "pager_broker_connected", "1 when connected to MQTT", registry=r
        )
        self.store_ok = Gauge("pager_store_ok", "1 when the store accepts writes", registry=r)
        self.node_info = Gauge(
            "pager_node_info",
            "1, labelled with this node's name (pager run --node)",
            ["node"],
            registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
