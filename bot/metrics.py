"""The bot's Prometheus metrics, in a registry of its own per application.

Counters and histograms are updated where things happen (the outbox dispatcher reports
each outcome through ``DispatchObserver``, the scheduler times every job run, the web
middleware times every request); the database-backed gauges (outbox backlog, roster size)
are set right before each scrape from one cheap query each (``storage.stats``), so they
are exact without any write path keeping them current.

A registry per ``App`` rather than prometheus-client's global one: nothing is built at
import time, and tests (or two apps in one process) never share counts.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.domain.model import AdvocateStatus

#: Request latencies: the acknowledgements Slack waits for are tens of milliseconds.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Job durations: a sweep takes milliseconds, a 5,000-advocate check-in seconds.
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class Metrics:
    """Every series ``/metrics`` exposes; implements ``bot.services.dispatch.DispatchObserver``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.deliveries = Counter(
            "advocate_bot_outbox_deliveries", "Outbox messages handled, by platform and "
            "result (sent, retry, dead, deferred).", ["platform", "result"], registry=r)
        self.retries = Counter(
            "advocate_bot_outbox_retries", "Outbox messages scheduled for another try, by "
            "platform and cause (rate_limited: a 429 / Retry-After; error: 5xx, network, "
            "anything else).", ["platform", "cause"], registry=r)
        self.dead_letters = Counter(
            "advocate_bot_outbox_dead_letters", "Outbox messages given up on (listed in the "
            "weekly digest).", ["platform"], registry=r)
        self.outbox_pending = Gauge(
            "advocate_bot_outbox_pending", "Messages waiting in the outbox (due or scheduled "
            "for a retry).", registry=r)
        self.outbox_oldest_age = Gauge(
            "advocate_bot_outbox_oldest_pending_age_seconds", "How long the oldest waiting "
            "outbox message has waited (0 when none waits).", registry=r)
        self.database_up = Gauge(
            "advocate_bot_metrics_database_up", "1 when the last scrape could read the "
            "database-backed series (outbox backlog, roster), else 0.", registry=r)
        self.roster = Gauge(
            "advocate_bot_roster_advocates", "Advocates on the roster, by status.",
            ["status"], registry=r)
        self.job_runs = Counter(
            "advocate_bot_job_runs", "Scheduled job runs, by job and result (ok, failed).",
            ["job", "result"], registry=r)
        self.job_duration = Histogram(
            "advocate_bot_job_duration_seconds", "How long scheduled job runs took.",
            ["job"], buckets=JOB_BUCKETS, registry=r)
        self.requests = Counter(
            "advocate_bot_http_requests", "HTTP requests answered, by route, method and "
            "status.", ["route", "method", "status"], registry=r)
        self.request_duration = Histogram(
            "advocate_bot_http_request_duration_seconds", "Time to answer an HTTP request "
            "(for /slack/events: Slack's acknowledgement), by route.", ["route", "method"],
            buckets=REQUEST_BUCKETS, registry=r)

    # --- updated where it happens ------------------------------------------------------

    def outbox_result(self, platform: str, result: str, *, rate_limited: bool) -> None:
        self.deliveries.labels(platform, result).inc()
        if result == "retry":
            self.retries.labels(platform, "rate_limited" if rate_limited else "error").inc()
        elif result == "dead":
            self.dead_letters.labels(platform).inc()

    def job_finished(self, job: str, seconds: float, *, ok: bool) -> None:
        self.job_runs.labels(job, "ok" if ok else "failed").inc()
        self.job_duration.labels(job).observe(seconds)

    def request_finished(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.request_duration.labels(route, method).observe(seconds)

    # --- set before a scrape -------------------------------------------------------------

    def set_backlog(self, pending: int, oldest_age: float) -> None:
        self.outbox_pending.set(pending)
        self.outbox_oldest_age.set(oldest_age)

    def set_roster(self, counts: Mapping[str, int]) -> None:
        """Every status gets a value (0 included), so a series never just disappears."""
        for status in {*(s.value for s in AdvocateStatus), *counts}:
            self.roster.labels(status).set(counts.get(status, 0))

    def render(self) -> bytes:
        """The text exposition format of every series."""
        return generate_latest(self.registry)


__all__ = ["CONTENT_TYPE", "Metrics"]
