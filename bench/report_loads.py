"""The report's sections on loads at once: the mixed load, one hot board, and friends and
histogram on the largest board. Each is left out for results that do not have it."""

from __future__ import annotations

from bench.records import BigRead, CacheSample, MixRecord, Results, WrkRecord
from bench.report_common import changed_share, cpu_of, cpu_split, met, size_label, store_cpu

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
    shared = c.get("shared")
    joined = f", {shared:,.0f} shared a read under way" if shared is not None else ""
    return (
        f"**{c['hit_rate']:.1%}** hits ({c['hits']:,.0f} hits, {c['misses']:,.0f} misses{joined})"
    )


def _label(m: MixRecord) -> str:
    """ "top-100 (rising)": the reads and, for signed-in submitters, their kind of scores."""
    kind = m.get("submissions")
    return f"{m['name']} ({kind})" if kind else m["name"]


def mixed_section(res: Results) -> list[str]:
    mixed = res.get("mixed")
    if not mixed:
        return []
    rc, wc = mixed["read_connections"], mixed["write_connections"]
    players = mixed.get("players")
    out: list[str] = []
    add = out.append
    add("## Mixed load: reads and submissions on one board at once\n")
    who = (
        f"as random signed-in players with their own session tokens, on boards of "
        f"{players:,} players (Signed-in players, above): *random*, scores from 1 to "
        "1,000,000 on `bench-players`, most of which leave the player's best, and the top "
        "page, as they were; *rising*, scores above every stored one on `bench-rising`, "
        "each of which changes its player's best and puts the player first, so the top "
        "page changes with every submission"
        if players
        else "(admin, random players, each score above every stored one: the full path, and "
        "the top 100 changes with every submission)"
    )
    add(
        f"Two wrk processes started together against one board for the same "
        f"{res['duration_s']:g} s: {rc} connections reading and {wc} connections submitting "
        f"{who}. Each side against the same load alone on the same board at the same "
        "connection count, measured just before in the same run. Goals: submissions keep "
        f"≥ {WRITES_KEEP:.0%} of their solo rate with p99 < {WRITES_P99_MS:.0f} ms, reads "
        f"≥ {READS_KEEP:.0%} of theirs.\n"
    )
    add(
        "| load | conns | alone req/s | alone p50 / p99 ms | mixed req/s | kept | "
        "mixed p50 / p99 / max ms | changed the best | non-2xx / socket errors | goal |"
    )
    add("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for m in mixed["mixes"]:
        keep_w, p99_w, keep_r = mix_verdicts(m)
        kind = m.get("submissions")
        subs = f"{kind} submissions" if kind else "submissions"
        rows = [
            (f"{m['name']} beside {subs}", m["reads"], f"kept ≥ 70 %: {met(keep_r)}"),
            (
                f"{subs} beside {m['name']}",
                m["writes"],
                f"kept ≥ 25 %: {met(keep_w)}; p99 < 50 ms: {met(p99_w)}",
            ),
        ]
        for name, side, goal in rows:
            s, r = side["solo"], side["run"]
            share = changed_share(r)
            add(
                f"| {name} | {r['connections']} | {s['rps']:,.0f} | "
                f"{s['p50_ms']:.2f} / {s['p99_ms']:.2f} | {r['rps']:,.0f} | "
                f"{side['ratio']:.0%} | {r['p50_ms']:.2f} / {r['p99_ms']:.2f} / "
                f"{r['max_ms']:.0f} | {f'{share:.0%}' if share is not None else '–'} | "
                f"{_errors(r)} | {goal} |"
            )
    cpus = ", ".join(
        f"{_label(m)} {cpu:,.0f} µs"
        + (f" (whole: {cpu + st[0] + st[1]:,.0f})" if (st := store_cpu(m["reads"]["run"])) else "")
        for m in mixed["mixes"]
        if (cpu := m["cpu_us_per_request"])
    )
    add(
        "\nService CPU per request of both loads together (the same workers serve both, so "
        "it is not split by side; *whole* adds Postgres' and Redis' CPU per request of both): "
        f"{cpus}.\n"
    )
    placed = "; ".join(
        f"{_label(m)}: " + ", ".join(f"{reads} + {writes}" for reads, writes in p)
        for m in mixed["mixes"]
        if (p := m.get("placement"))
    )
    if placed:
        add(
            "**Where the connections landed** (reading + submitting connections held by each "
            "worker, read from the kernel's sockets as each mixed run started; "
            "`bench/placement.py`): "
            f"{placed}. The workers share one listening socket and whichever waits in "
            "accept() first takes the next connection, so the split differs from run to run, "
            "and a worker holding most of the submitters gives them most of its turns "
            "(docs/decisions.md, D-050).\n"
        )
    caches = "; ".join(
        f"beside {_label(m)} submissions {_cache(m['cache'])}"
        for m in mixed["mixes"]
        if m["cache"] is not None
    )
    add(
        "**Top-page cache** (`leaderboard_top_page_cache_total{result}` from the service's "
        "`/metrics`, every worker's added up, before and after the run; the hit rate counts "
        "a reader that joined a read under way, `shared`, as a hit: it sent nothing to "
        f"Redis): top-100 alone {_cache(mixed['solo_cache'])}; {caches or 'not read'}.\n"
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
        f"each with {hot['credential']}. wrk "
        f"keeps {hot['connections']} submissions in flight: the players in a random order, "
        "random scores, each connection taking the next player as soon as it has its answer, "
        "until every player has sent one; the run ends at the last answer "
        "(`bench/lua/once.lua`). Every submission is a new entry.\n"
    )
    add(
        "| players | conns | took s | submissions/s | p50 / p90 / p99 / max ms | "
        "non-2xx / socket errors | CPU per submission | Redis CPU, share of one core |"
    )
    add("|---:|---:|---:|---:|---:|---:|---:|---:|")
    add(
        f"| {hot['players']:,} | {hot['connections']} | {r['duration_s']:.2f} | "
        f"{r['rps']:,.0f} | {r['p50_ms']:.1f} / {r['p90_ms']:.1f} / {r['p99_ms']:.1f} / "
        f"{r['max_ms']:.0f} | {_errors(r)} | {cpu_split(r)} | {hot['redis_cores']:.0%} |"
    )
    add(
        f"\nAfterwards the board holds {hot['entries_after']:,} entries; the service counted "
        f"{hot['accepted']:,.0f} accepted submissions (`leaderboard_submissions_total` from "
        "`/metrics`, every worker's added up). CPU per submission: every process of "
        "`leaderboard serve`, the Postgres backends of the benchmark's database and the "
        "whole redis-server (as under Signed-in players), per answered submission; Redis' "
        f"share of a core is its `INFO cpu` over the {hot['wall_s']:.2f} s of the wrk "
        f"process ({hot['redis_cpu_us_per_submission']:,.0f} µs per submission)."
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
