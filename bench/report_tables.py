"""The report's tables: throughput per endpoint, rank lookups by board size, memory."""

from __future__ import annotations

from bench.records import Results, WrkRecord
from bench.report_common import bare_cpu, bare_rps, cpu_of, size_label, whole_cpu


def throughput(res: Results) -> list[str]:
    """Every endpoint against the bare app, and submissions at half the peak rate."""
    runs = res["runs"]
    bare = bare_rps(runs)
    w, c = res["workers"], res["connections"]
    out: list[str] = []
    add = out.append
    add(f"## Throughput ({w} workers, {c} connections)\n")
    add(
        "| endpoint | req/s | p50 ms | p99 ms | vs bare | server CPU µs/req | "
        "bare's CPU ÷ this | whole CPU µs/req | non-2xx / errors |"
    )
    add("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    bare_cpu_mean = bare_cpu(runs)
    small = res["rank_by_size"][0]["board"]
    rows: list[tuple[str, WrkRecord]] = [
        ("bare Litestar `GET /hello` (start)", runs["hello"]),
        ("bare Litestar `GET /hello` (end)", runs["hello_end"]),
        (
            f"submit a score `POST …/{small}/scores` (admin, random player, rising)",
            runs["submit"],
        ),
        (f"top-100 `GET …/{small}/top?limit=100`", runs["top100"]),
        (f"a player's rank `GET …/{small}/players/{{id}}`", runs["rank"]),
        (f"around ±5 `GET …/{small}/players/{{id}}/around?radius=5`", runs["around"]),
    ]
    for name, r in rows:
        cpu = cpu_of(r)
        whole = whole_cpu(r) if "/hello" not in name else None
        add(
            f"| {name} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
            f"{r['rps'] / bare:.0%} | {f'{cpu:,.0f}' if cpu else '–'} | "
            f"{f'{bare_cpu_mean / cpu:.0%}' if cpu and bare_cpu_mean else '–'} | "
            f"{f'{whole:,.0f}' if whole else '–'} | {r['errors']} |"
        )
    add("")
    add(
        "*Server CPU µs/req* is the CPU (user + system) that the server's processes spent per "
        "request during the run (psutil, before and after); *bare's CPU ÷ this* is the "
        "throughput ratio to expect once the workers' cores are the limit. Unlike req/s it "
        "hardly moves with other load on the machine, so it is the steadier of the two ratios. "
        "*Whole CPU* adds Postgres' (the database's backends) and Redis' (the whole server) "
        "CPU per request (Signed-in players, below)."
    )
    p = runs["submit_paced"]
    who = " (signed-in players, random scores)" if res.get("players") else ""
    add("")
    add(
        f"**Submission at half the peak rate**{who}: wrk has no fixed-rate mode (wrk2 is not "
        f"available), so `bench/lua/common.lua` paces {p['connections']} connections with "
        f"wrk's `delay()` hook (a random 0–2× delay per request, calibrated with two short "
        f"runs). Target "
        f"{p['target_rps']:,.0f} req/s, achieved **{p['rps']:,.0f} req/s**: p50 "
        f"{p['p50_ms']:.2f} ms, p90 {p['p90_ms']:.2f} ms, **p99 {p['p99_ms']:.2f} ms**, "
        f"max {p['max_ms']:.1f} ms, {p['errors']} errors. (Latency is measured from when wrk "
        "sends, so queueing inside wrk is not counted: coordinated omission is possible but "
        "small at this load.)\n"
    )
    add(
        "The admin's submissions send a score above every stored one, so each one changes "
        "the player's `best`: the full path every time (rate limiter, Postgres upsert, "
        "`index_apply.lua`, rank-change event). Every board uses a rate limit of 10,000 per "
        "player per second.\n"
    )
    return out


def rank_by_size(res: Results, plot_line: str) -> list[str]:
    """The plot (or a line saying why there is none), then the rank lookup table."""
    c = res["connections"]
    out: list[str] = []
    add = out.append
    add("## Rank lookup against board size\n")
    add(plot_line)
    add(
        "API: `GET /v1/leaderboards/{id}/players/{player}` for 2,000 random players of "
        "each board (profile cache warmed by a short run first; each size measured in two "
        "halves, sizes ascending then descending, and combined); Redis: the same players' "
        "members; server times from `INFO commandstats` deltas (calls and µs of `zrank` and "
        "`evalsha` while only the benchmark talked to db 15).\n"
    )
    add(
        f"| players | API req/s (c{c}) | API p50 / p99 ms (c{c}) | API server CPU µs/req "
        f"(c{c}) | API p50 ms (c1) | "
        "ZRANK server µs | index_read.lua server µs | redis-py ZRANK round trip µs | "
        "Postgres count(*) median ms | Postgres ÷ API (c1) | Postgres ÷ ZRANK |"
    )
    add("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rb, rd, pg in zip(
        res["rank_by_size"], res["redis"], res["postgres"]["by_size"], strict=True
    ):
        lo, si = rb["loaded"], rb["single"]
        add(
            f"| {size_label(rb['size'])} | {lo['rps']:,.0f} | "
            f"{lo['p50_ms']:.2f} / {lo['p99_ms']:.2f} | "
            f"{cpu_of(lo) or 0:,.0f} | "
            f"{si['p50_ms']:.2f} | {rd['zrank_server_us']:.2f} | "
            f"{rd['index_read_server_us']:.2f} | {rd['zrank_roundtrip_us']:.0f} | "
            f"{pg['median_ms']:,.2f} | {pg['median_ms'] / si['p50_ms']:,.1f}× | "
            f"{pg['median_ms'] * 1000 / rd['zrank_server_us']:,.0f}× |"
        )
    pgr = res["postgres"]
    add("")
    add(
        f"Postgres alone: `SELECT count(*) FROM scores WHERE leaderboard_id=$1 AND "
        f"period_start=$2 AND score > $3` (the rank minus one, ties aside) with an index "
        f"`(leaderboard_id, period_start, score DESC)` that the benchmark creates "
        f"({pgr['index_build_s']:.0f} s with VACUUM) and drops; prepared statement, players' "
        f"scores from the same random sample, so the counted range is on average half the "
        f"board; plan: {', '.join(sorted({r['plan'] for r in pgr['by_size']}))}. Queries per "
        f"size: {', '.join(str(r['queries']) for r in pgr['by_size'])}.\n"
    )
    return out


def memory(res: Results) -> list[str]:
    out: list[str] = []
    add = out.append
    add("## Redis memory per entry\n")
    add(
        "`MEMORY USAGE … SAMPLES 0` (every element counted; boards above 1 M: SAMPLES 10000, "
        "exact enough because every member has the same length) of the index keys against a "
        "bare sorted set of the same player ids with the same scores.\n"
    )
    add(
        "| players | sorted set B/entry | members hash B/entry | distinct scores + digests "
        "B/entry | index B/entry | bare sorted set B/entry | ratio |"
    )
    add("|---:|---:|---:|---:|---:|---:|---:|")
    for r in res["redis"]:
        add(
            f"| {size_label(r['size'])} | {r['zset_per_entry']:.0f} | {r['hash_per_entry']:.0f} | "
            f"{r.get('other_per_entry', 0.0):.0f} | "
            f"{r['bytes_per_entry']:.0f} | {r['bare_bytes_per_entry']:.0f} | "
            f"{r['ratio_to_bare']:.2f}× |"
        )
    big = res["redis"][-1]
    whole = big["zset_bytes"] + big["hash_bytes"] + big.get("other_bytes", 0)
    add(
        "\nThe distinct scores are one member per distinct score of the board (dense ranks, "
        "docs/ranking.md): here nearly every entry's score is its own, the most they cost; a "
        "board of few distinct scores pays little. The digests are one hash of at most 4,096 "
        "fields per index, whatever its size.\n"
    )
    add(
        f"\nAt {size_label(big['size'])} players the index takes "
        f"{whole / 2**30:.2f} GiB against "
        f"{big['bare_zset_bytes'] / 2**30:.2f} GiB for a bare sorted set.\n"
    )
    return out
