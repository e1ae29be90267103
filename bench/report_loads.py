"""The report's sections on loads at once: the mixed load, one hot board, and friends and
histogram on the largest board. Each is left out for results that do not have it."""

from __future__ import annotations

from bench.records import BigRead, CacheSample, MixRecord, Results, WrkRecord
from bench.report_common import cpu_of, met, size_label

# This round's goals for the mixed load (each side against itself alone).
WRITES_KEEP = 0.25
WRITES_P99_MS = 50.0
READS_KEEP = 0.70


def mix_verdicts(m: MixRecord) -> tuple[bool, bool, bool]:
    """(submissions keep ≥ 25 %, their p99 < 50 ms, reads keep ≥ 70 %)."""
    w = m["writes"]
    return (
        w["ratio"] >= WRITES_KEEP,
        w["run"]["p99_ms"] < WRITES_P99_MS,
        m["reads"]["ratio"] >= READS_KEEP,
    )


def _errors(r: WrkRecord) -> str:
    return f"{r['non_2xx']} / {r['errors'] - r['non_2xx']}"


def _cache(c: CacheSample | None) -> str:
    if c is None or c["hit_rate"] is None:
        return "not read"
    who = (
        "both workers' /metrics"
        if c["workers"] == c["of_workers"]
        else f"{c['workers']} of {c['of_workers']} workers' /metrics only"
    )
    shared = c.get("shared")
    joined = f", {shared:,.0f} shared a read under way" if shared is not None else ""
    return (
        f"**{c['hit_rate']:.1%}** hits ({c['hits']:,.0f} hits, {c['misses']:,.0f} misses"
        f"{joined}; {who})"
    )


def mixed_section(res: Results) -> list[str]:
    mixed = res.get("mixed")
    if not mixed:
        return []
    rc, wc = mixed["read_connections"], mixed["write_connections"]
    out: list[str] = []
    add = out.append
    add("## Mixed load: reads and submissions on one board at once\n")
    add(
        f"Two wrk processes started together against `{mixed['board']}` for the same "
        f"{res['duration_s']:g} s: {rc} connections reading and {wc} connections submitting "
        "(admin, random players, each score above every stored one: the full path, and the "
        "top 100 changes with every submission). Each side against the same load alone at "
        "the same connection count, measured just before in the same run. Goals this round: "
        f"submissions keep ≥ {WRITES_KEEP:.0%} of their solo rate with p99 < "
        f"{WRITES_P99_MS:.0f} ms, reads ≥ {READS_KEEP:.0%} of theirs.\n"
    )
    add(
        "| load | conns | alone req/s | alone p50 / p99 ms | mixed req/s | kept | "
        "mixed p50 / p99 / max ms | non-2xx / socket errors | goal |"
    )
    add("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for m in mixed["mixes"]:
        keep_w, p99_w, keep_r = mix_verdicts(m)
        rows = [
            (f"{m['name']} beside submissions", m["reads"], f"kept ≥ 70 %: {met(keep_r)}"),
            (
                f"submissions beside {m['name']}",
                m["writes"],
                f"kept ≥ 25 %: {met(keep_w)}; p99 < 50 ms: {met(p99_w)}",
            ),
        ]
        for name, side, goal in rows:
            s, r = side["solo"], side["run"]
            add(
                f"| {name} | {r['connections']} | {s['rps']:,.0f} | "
                f"{s['p50_ms']:.2f} / {s['p99_ms']:.2f} | {r['rps']:,.0f} | "
                f"{side['ratio']:.0%} | {r['p50_ms']:.2f} / {r['p99_ms']:.2f} / "
                f"{r['max_ms']:.0f} | {_errors(r)} | {goal} |"
            )
    cpus = ", ".join(
        f"{m['name']} {m['cpu_us_per_request']:,.0f} µs"
        for m in mixed["mixes"]
        if m["cpu_us_per_request"]
    )
    add(
        f"\nServer CPU per request of both loads together (the same workers serve both, so "
        f"it is not split by side): {cpus}.\n"
    )
    top = next((m for m in mixed["mixes"] if m["cache"] is not None), None)
    beside = _cache(top["cache"] if top else None)
    add(
        "**Top-page cache** (`leaderboard_top_page_cache_total{result}`, read from every "
        "worker's `/metrics` before and after the run: a scrape's connection is matched to "
        "the worker holding its other end; the hit rate counts a reader that joined a read "
        "under way, `shared`, as a hit: it sent nothing to Redis): top-100 alone "
        f"{_cache(mixed['solo_cache'])}; beside submissions {beside}.\n"
    )
    return out


def hot_section(res: Results) -> list[str]:
    hot = res.get("hot_board")
    if not hot:
        return []
    r = hot["run"]
    out: list[str] = []
    add = out.append
    add("## One hot board: many players submitting at once\n")
    add(
        f"{hot['players']:,} distinct players each submit once to a fresh board "
        f"`{hot['board']}` (created through the API, rate limit 10,000 per player per second), "
        f"with {hot['credential']} (`POST /v1/server-keys`), as a game server submits. wrk "
        f"keeps {hot['connections']} submissions in flight: the players in a random order, "
        "random scores, each connection taking the next player as soon as it has its answer, "
        "until every player has sent one; the run ends at the last answer "
        "(`bench/lua/hot.lua`). Every submission is a new entry.\n"
    )
    add(
        "| players | conns | took s | submissions/s | p50 / p90 / p99 / max ms | "
        "non-2xx / socket errors | service CPU µs/submission | Redis CPU µs/submission | "
        "Redis CPU, share of one core |"
    )
    add("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    cpu = cpu_of(r)
    add(
        f"| {hot['players']:,} | {hot['connections']} | {r['duration_s']:.2f} | "
        f"{r['rps']:,.0f} | {r['p50_ms']:.1f} / {r['p90_ms']:.1f} / {r['p99_ms']:.1f} / "
        f"{r['max_ms']:.0f} | {_errors(r)} | {f'{cpu:,.0f}' if cpu else '–'} | "
        f"{hot['redis_cpu_us_per_submission']:,.1f} | {hot['redis_cores']:.0%} |"
    )
    counted = (
        "both workers"
        if hot["accepted_workers"] >= 2
        else f"{hot['accepted_workers']} worker(s) only"
    )
    add(
        f"\nAfterwards the board holds {hot['entries_after']:,} entries; the workers counted "
        f"{hot['accepted']:,.0f} accepted submissions (`leaderboard_submissions_total`, "
        f"{counted}). Redis' CPU is `INFO cpu` (used_cpu_user + used_cpu_sys of the whole "
        f"redis-server) over the {hot['wall_s']:.2f} s of the wrk process; the service's is "
        "every process of `leaderboard serve` (psutil) per answered submission."
        + _shared(hot["redis_other_clients"])
        + "\n"
    )
    return out


def _shared(others: int) -> str:
    """A warning when others used the same Redis: its server-wide figures include them."""
    if not others:
        return ""
    return (
        f" **Caution:** {others} clients of other Redis dbs were connected to the same "
        "redis-server during this run; its CPU and `INFO commandstats` are server-wide and "
        "include whatever they did."
    )


def _big_row(name: str, b: BigRead, alone: float | None) -> str:
    r = b["run"]
    cpu = cpu_of(r)
    return (
        f"| {name} | {r['rps']:,.0f} | {r['p50_ms']:.2f} / {r['p99_ms']:.2f} | "
        f"{f'{cpu:,.0f}' if cpu else '–'} | {b['evalsha_per_request']:.2f} | "
        f"{b['evalsha_us_per_request']:,.1f} | {b['evalsha_us_per_call']:,.1f} | "
        f"{f'{alone:,.1f}' if alone is not None else '–'} | {_errors(r)} |"
    )


def big_reads_section(res: Results) -> list[str]:
    big = res.get("big_reads")
    if not big:
        return []
    c = res["connections"]
    out: list[str] = []
    add = out.append
    add(f"## Friends and histogram at {size_label(big['size'])} entries\n")
    add(
        f"On `{big['board']}`, {c} connections: friends `{big['friends']['path']}` (each query "
        f"{big['friends_ids']} random players of the board; wrk cycles through "
        f"{big['friends_paths']} such queries, after a short warm-up run that fills the "
        f"profile cache with their names) and `{big['histogram']['path']}`. Redis server "
        "time: `INFO commandstats` deltas of `evalsha` during the run (every script the "
        "service ran: the index read and the names), and `index_read.lua` alone on a quiet "
        "Redis afterwards (the same queries sent straight to Redis, service stopped)."
        + _shared(big.get("redis_other_clients", 0))
        + "\n"
    )
    add(
        "| query | req/s | p50 / p99 ms | server CPU µs/req | EVALSHA per request | "
        "Redis µs per request (EVALSHA) | Redis µs per EVALSHA | index_read.lua alone "
        "µs/call | non-2xx / socket errors |"
    )
    add("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    add(_big_row(f"friends ({big['friends_ids']} ids)", big["friends"], big.get("players_read_us")))
    add(
        _big_row(
            f"histogram (buckets={big['buckets']})", big["histogram"], big.get("histogram_read_us")
        )
    )
    add("")
    return out
