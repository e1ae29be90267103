"""The signed-in players' and the fan-out's results (bench/results/<mode>.json).

Beside bench/records.py (the rest of a run's results), which refers to these.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

from bench.records import WrkRecord
from bench.settle import Settled


class PlayerLoads(TypedDict):
    """Submissions and sign-ins as signed-in players (bench/players.py), at full load."""

    devices: int  # signed in before the loads (POST /v1/auth/device)
    players: int  # of them, on each of the two boards
    sign_in_s: float  # how long signing the devices in took
    board: str  # random scores 1 … max_score
    rising_board: str  # every score above every stored one
    max_score: int
    submit_random: WrkRecord  # counters: changed, unchanged
    submit_rising: WrkRecord
    signin: WrkRecord  # counters: created (0: every device was known)


class Latency(TypedDict):
    """Percentiles of a list of durations, in ms (0 for an empty list)."""

    count: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float


class FanoutStep(TypedDict):
    """Paced submissions to the fan-out board while every subscriber listens."""

    target_rate: float  # submissions per second asked of the submitter
    seconds: float  # how long the submitter's schedule ran
    submitted: int
    accepted: int  # answered 200
    submit_errors: int  # other answers and broken connections
    submit_rate: float  # accepted ÷ the time from the first send to the last answer
    submit_latency: Latency  # answered - sent
    submit_latency_scheduled: Latency  # answered - when the schedule said to send
    unchanged: int  # accepted, but a later one of the same player's had overtaken it
    expected: int  # (accepted - unchanged) * subscribers
    delivered: int  # (subscriber, submission) pairs received, each once
    missing: int  # (subscriber, submission) pairs never received
    duplicates: int
    unexpected: int  # events of no submission of this step
    dropped: int  # what the service said it dropped for slow readers (events_dropped)
    closed: int  # subscribers whose connection ended
    from_answered: Latency  # received - the submission's answer
    from_sent: Latency  # received - the submission's send
    before_answer: int  # deliveries received before their submission's answer
    events_per_s: float  # delivered ÷ (last receipt - first send)
    window_s: float  # last receipt - first send
    service_cores: float  # CPU seconds per second of the step's window, each
    postgres_cores: float
    redis_cores: float
    subscriber_cores: float  # the subscribers' process (the client)
    submitter_cores: float  # the submitter's process (the client)
    load_average: float  # the machine's 1-minute load average at the step's end


class Fanout(TypedDict):
    board: str
    subscribers: int
    processes: int  # subscriber processes
    connect_s: float  # until every subscriber had its {"type":"subscribed"}
    extensions: str  # Sec-WebSocket-Extensions the service answered
    base: FanoutStep  # at the rate (50/s)
    ceiling: list[FanoutStep]  # rising rates until delivery p99 passed 1 s
    rss_before: int  # the service's resident memory, every process: no subscriber
    rss_subscribed: int  # every subscriber connected, idle
    rss_after: int  # after the last step, still connected
    rss_closed: int  # a moment after they closed
    settled: NotRequired[Settled]  # the wait before the step (not in the smoke run)
