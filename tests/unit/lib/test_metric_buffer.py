"""Buffered metric children: what a flush writes is what prometheus_client's own calls write."""

from __future__ import annotations

import math

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from leaderboard.lib.metric_buffer import MetricBuffer

BUCKETS = (0.001, 0.01, 0.1, 1.0)
# On a bound, between bounds, below the first, above the last (+Inf), zero, negative.
VALUES = (0.001, 0.0005, 0.01, 0.02, 0.1, 1.0, 1.5, 42.0, 0.0, -3.0, 0.5)


def samples(registry: CollectorRegistry, name: str) -> dict[tuple[str, tuple[object, ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in registry.collect()
        if family.name == name
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def test_a_buffered_histogram_writes_at_the_flush_what_observe_writes() -> None:
    direct_registry, buffered_registry = CollectorRegistry(), CollectorRegistry()
    direct = Histogram("t_seconds", "t", ["route"], buckets=BUCKETS, registry=direct_registry)
    buffered = Histogram("t_seconds", "t", ["route"], buckets=BUCKETS, registry=buffered_registry)
    buffer = MetricBuffer()
    child = buffer.histogram(buffered, "/a")
    assert buffer.histogram(buffered, "/a") is child, "one buffered child per label values"
    for value in VALUES:
        direct.labels("/a").observe(value)
        child.observe(value)

    before = samples(buffered_registry, "t_seconds")
    assert before[("t_seconds_count", (("route", "/a"),))] == 0, "nothing written before"
    buffer.flush()
    assert samples(buffered_registry, "t_seconds") == samples(direct_registry, "t_seconds")
    # A second flush with nothing new changes nothing; new observations add up.
    buffer.flush()
    child.observe(0.05)
    direct.labels("/a").observe(0.05)
    buffer.flush()
    assert samples(buffered_registry, "t_seconds") == samples(direct_registry, "t_seconds")


def test_a_nan_observation_lands_in_no_bucket_as_with_prometheus_client() -> None:
    direct_registry, buffered_registry = CollectorRegistry(), CollectorRegistry()
    direct = Histogram("n_seconds", "n", buckets=BUCKETS, registry=direct_registry)
    buffered = Histogram("n_seconds", "n", buckets=BUCKETS, registry=buffered_registry)
    buffer = MetricBuffer()
    direct.observe(math.nan)
    buffer.histogram(buffered).observe(math.nan)
    buffer.flush()
    got, want = samples(buffered_registry, "n_seconds"), samples(direct_registry, "n_seconds")
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == value or (math.isnan(got[key]) and math.isnan(value)), key


def test_a_buffered_counter_adds_at_the_flush_and_refuses_a_negative_amount() -> None:
    registry = CollectorRegistry()
    counter = Counter("c", "c", ["outcome"], registry=registry)
    buffer = MetricBuffer()
    accepted = buffer.counter(counter, "accepted")
    accepted.inc()
    accepted.inc(2.5)
    buffer.counter(counter, "throttled").inc()
    with pytest.raises(ValueError, match="non-negative"):
        accepted.inc(-1)
    assert registry.get_sample_value("c_total", {"outcome": "accepted"}) == 0.0
    buffer.flush()
    assert registry.get_sample_value("c_total", {"outcome": "accepted"}) == 3.5
    assert registry.get_sample_value("c_total", {"outcome": "throttled"}) == 1.0
    accepted.inc()
    buffer.flush()
    buffer.flush()
    assert registry.get_sample_value("c_total", {"outcome": "accepted"}) == 4.5


def test_a_buffered_gauge_writes_its_current_value_at_the_flush() -> None:
    registry = CollectorRegistry()
    gauge = Gauge("g", "g", ["path"], registry=registry)
    buffer = MetricBuffer()
    in_progress = buffer.gauge(gauge, "/a")
    in_progress.inc()
    in_progress.inc()
    buffer.flush()
    assert registry.get_sample_value("g", {"path": "/a"}) == 2.0
    in_progress.dec()
    in_progress.dec()
    assert registry.get_sample_value("g", {"path": "/a"}) == 2.0, "not before the flush"
    buffer.flush()
    assert registry.get_sample_value("g", {"path": "/a"}) == 0.0
    assert b'g{path="/a"} 0.0' in generate_latest(registry)
