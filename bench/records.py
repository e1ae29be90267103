"""The results of a run, as saved in bench/results/<mode>.json and read by the report."""

from __future__ import annotations

from typing import TYPE_CHECKING, NotRequired, TypedDict

if TYPE_CHECKING:  # bench/records_players.py refers to WrkRecord here
    from bench.records_players import Fanout, PlayerLoads


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
    # Absent from results of runs before Postgres' and Redis' CPU was measured.
    postgres_cpu_us_per_request: NotRequired[float | None]  # the database's backends
    redis_cpu_us_per_request: NotRequired[float | None]  # the whole redis-server
    redis_other_clients: NotRequired[int | None]  # clients of other Redis dbs meanwhile
    counters: NotRequired[dict[str, int]]  # what the script counted (changed, unchanged)


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


class MixSide(TypedDict):
    """One side of a mixed load: its run beside the other side, and the same load alone."""

    run: WrkRecord  # cpu_us_per_request None: see MixRecord
    solo: WrkRecord  # alone, same connections, in the same run
    ratio: float  # run rps ÷ solo rps


class CacheSample(TypedDict):
    """The top-page cache's counters grown during a run (leaderboard_top_page_cache_total)."""

    hits: float
    misses: float
    shared: NotRequired[float]  # missed, then joined another reader's read (no read of its own)
    hit_rate: float | None  # None when nothing was asked of it


class MixRecord(TypedDict):
    name: str  # what the reads are: top-100, rank, around ±5
    # Absent from runs before signed-in submitters: admin submissions, rising scores.
    submissions: NotRequired[str]  # "random" (most leave the best) or "rising" (all change it)
    board: NotRequired[str]
    reads: MixSide
    writes: MixSide
    cpu_us_per_request: float | None  # the server's CPU per request of both loads together
    cache: CacheSample | None  # top-100 only
    # Per worker process: its (reading, submitting) connections (bench/placement.py).
    placement: NotRequired[list[list[int]] | None]


class MixedResults(TypedDict):
    board: str
    read_connections: int
    write_connections: int
    mixes: list[MixRecord]
    solo_cache: CacheSample | None  # the cache during the solo top-100 run
    players: NotRequired[int]  # signed-in players on each board (absent: admin submissions)


class HotBoard(TypedDict):
    """Distinct players each submitting once to one fresh board, as fast as possible."""

    board: str
    players: int
    connections: int
    credential: str
    run: WrkRecord  # duration_s: from the first request to the last answer (± 1 ms)
    accepted: float  # leaderboard_submissions_total{outcome="accepted"} grown (all workers)
    entries_after: int  # ZCARD of the board's index afterwards
    wall_s: float  # the wrk process' whole life, around which Redis' CPU was read
    redis_cpu_s: float  # INFO cpu used_cpu_user + used_cpu_sys grown
    redis_cpu_us_per_submission: float
    redis_cores: float  # redis_cpu_s ÷ wall_s
    redis_other_clients: int  # clients of other dbs connected meanwhile (0: Redis was ours)


class BigRead(TypedDict):
    name: str
    path: str  # an example
    run: WrkRecord
    evalsha_per_request: float  # EVALSHA calls per HTTP request during the run
    evalsha_us_per_request: float  # their Redis server time per HTTP request
    evalsha_us_per_call: float


class BigReads(TypedDict):
    board: str
    size: int
    friends_ids: int  # ids per friends query
    friends_paths: int  # distinct queries wrk cycles through
    buckets: int
    friends: BigRead
    histogram: BigRead
    redis_other_clients: int  # clients of other dbs connected meanwhile (0: Redis was ours)
    # index_read.lua alone on a quiet Redis (measure_redis.big_reads): server µs per call
    players_read_us: NotRequired[float]
    histogram_read_us: NotRequired[float]


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
    other_bytes: int
    """The distinct scores (dense ranks) and the bucket digests."""
    bare_zset_bytes: int
    bytes_per_entry: float
    zset_per_entry: float
    hash_per_entry: float
    other_per_entry: float
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
    load_average: NotRequired[list[float]]  # 1, 5 and 15 minutes, at the start of the run


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
    # Absent from the results of runs before these measurements existed.
    mixed: NotRequired[MixedResults]
    hot_board: NotRequired[HotBoard]
    big_reads: NotRequired[BigReads]
    players: NotRequired[PlayerLoads]
    fanout: NotRequired[Fanout]
    load_average_end: NotRequired[list[float]]  # 1, 5 and 15 minutes, before the cleanup
