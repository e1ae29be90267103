"""The results of a run, as saved in bench/results/<mode>.json and read by the report."""

from __future__ import annotations

from typing import TypedDict


class WrkRecord(TypedDict):
    """One wrk run (``WrkResult.as_dict``)."""

    name: str
    connections: int
    duration_s: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    errors: int  # socket errors + non-2xx/3xx answers
    non_2xx: int
    cpu_us_per_request: float | None  # server CPU per request; None when not measured


class PacedRecord(WrkRecord):
    target_rps: float
    delay_ms: float


class ProfiledRun(TypedDict, total=False):
    submit_profiled: WrkRecord  # absent without a profile


class Runs(ProfiledRun):
    hello: WrkRecord
    rank: WrkRecord
    around: WrkRecord
    top100: WrkRecord
    submit: WrkRecord
    submit_paced: PacedRecord
    hello_end: WrkRecord


class RankBySize(TypedDict):
    size: int
    board: str
    loaded: WrkRecord  # all connections
    single: WrkRecord  # one connection


class TopSelfRow(TypedDict):
    function: str
    file: str
    pct: float
    note: str


class PackageRow(TypedDict):
    package: str
    pct: float


class StepRow(TypedDict):
    step: str
    pct: float


class ProfileSummary(TypedDict):
    samples: int
    top_self: list[TopSelfRow]
    by_package: list[PackageRow]
    steps: list[StepRow]


class Profile(ProfileSummary):
    raw: str  # the merged raw profile, relative to the repository
    workers: int


class Memory(TypedDict):
    zset_bytes: int
    hash_bytes: int
    bare_zset_bytes: int
    bytes_per_entry: float
    zset_per_entry: float
    hash_per_entry: float
    bare_bytes_per_entry: float
    ratio_to_bare: float
    memory_samples: int


class RedisRecord(Memory):
    size: int
    board: str
    zrank_server_us: float
    index_read_server_us: float
    zrank_roundtrip_us: float


class PostgresRecord(TypedDict):
    size: int
    board: str
    queries: int
    median_ms: float
    min_ms: float
    max_ms: float
    plan: str


class PostgresResults(TypedDict):
    index_build_s: float
    by_size: list[PostgresRecord]


class LoadTimings(TypedDict):
    load_s: float
    copy_s: float
    vacuum_s: float
    rows: int


class RebuildCheck(TypedDict):
    board: str
    identical: bool
    output: list[str]


class Facts(TypedDict):
    date: str
    cpu: str
    memory_gib: float
    kernel: str
    python: str
    packages: dict[str, str]
    redis_server: str
    postgres: str
    wrk: str


class ProfilePart(TypedDict, total=False):
    profile: Profile  # absent without a profile


class Results(ProfilePart):
    mode: str
    sizes: list[int]
    workers: int
    duration_s: float
    connections: int
    command: str
    redis_db_keys_before: int
    facts: Facts
    load: LoadTimings
    rebuild_check: RebuildCheck
    rank_by_size: list[RankBySize]
    runs: Runs
    redis: list[RedisRecord]
    postgres: PostgresResults
    elapsed_s: float
