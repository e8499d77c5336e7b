"""Every scheduled job run is timed for the metrics, failed runs included."""

from __future__ import annotations

import asyncio

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.metrics import Metrics
from bot.scheduler import RunningScheduler


def running_scheduler(metrics: Metrics) -> RunningScheduler:
    return RunningScheduler(AsyncIOScheduler(), None, asyncio.Event(),
                            on_finished=metrics.job_finished)


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_a_tracked_job_is_counted_and_timed_under_its_name() -> None:
    metrics = Metrics()
    scheduler = running_scheduler(metrics)

    async def sweep(n: int) -> int:
        await asyncio.sleep(0.01)
        return n

    assert await scheduler.track(sweep, "expire_asks")(3) == 3

    assert sample(metrics, "advocate_bot_job_runs_total", job="expire_asks", result="ok") == 1
    assert sample(metrics, "advocate_bot_job_duration_seconds_count", job="expire_asks") == 1
    assert sample(metrics, "advocate_bot_job_duration_seconds_sum", job="expire_asks") >= 0.01
    assert not scheduler.running


async def test_a_failing_job_is_counted_as_failed_and_its_error_goes_on() -> None:
    metrics = Metrics()
    scheduler = running_scheduler(metrics)

    async def broken() -> None:
        raise RuntimeError("database is down")

    with pytest.raises(RuntimeError, match="database is down"):
        await scheduler.track(broken)()

    assert sample(metrics, "advocate_bot_job_runs_total", job="broken", result="failed") == 1
    assert sample(metrics, "advocate_bot_job_runs_total", job="broken", result="ok") == 0
