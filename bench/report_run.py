"""The report's top: how to run the benchmark, and what this run ran on and with."""

from __future__ import annotations

from bench.records import Results
from bench.report_common import bare_rps, size_label


def run_section(res: Results) -> list[str]:
    """The title, how to run it, and "This run" (machine, versions, service, load, boards)."""
    f, runs = res["facts"], res["runs"]
    bare = bare_rps(runs)
    w, c, d = res["workers"], res["connections"], res["duration_s"]
    sizes = ", ".join(size_label(s) for s in res["sizes"])
    out: list[str] = []
    add = out.append
    add("# Benchmarks\n")
    took = (
        f"the full run took {res['elapsed_s'] / 60:.0f} minutes here, "
        f"{res['load']['load_s'] / 60:.0f} of them loading the boards; "
        if res["mode"] == "full"
        else ""  # a quick or smoke run says how long it took under "This run"
    )
    add(f"Run them ({took}everything it starts or writes is removed at the end):\n")
    add(
        "```console\n$ bash bench/run.sh            # full run: boards of 10 k, 1 M, 10 M; "
        "rewrites this file\n$ bash bench/run.sh --quick    # quick run (~5 min): 10 k and "
        "100 k, 3 s per wrk run; writes bench/results/quick.md\n"
        "$ bash bench/run.sh --smoke    # CI's check (~1 min): 1 k and 2 k, 1 s per wrk run, "
        "20 WebSocket subscribers, no profile; fails on any error or lost event; writes "
        "bench/results/smoke.md\n```\n"
    )
    add(
        '`bench/run.sh` is `uv run --group bench python -m bench "$@"` (the group brings '
        "matplotlib and py-spy); "
        "`python -m bench --help` lists the options (`--sizes`, `--workers`, `--duration`, "
        "`--connections`, the Postgres/Redis URLs). It needs `wrk`, a Postgres at "
        "`127.0.0.1:5432` (user `postgres`) and a Redis at `127.0.0.1:6379`. It creates the "
        "database `leaderboard_bench` (dropped at the end) and uses Redis db 15 under the key "
        "prefix `lbbench:` (SCAN + UNLINK at the end; it never flushes anything). Raw results: "
        f"`bench/results/{res['mode']}.json`; `python -m bench.report` redraws this page from "
        "them.\n"
    )
    add("## This run\n")
    argv = res["command"].split()
    cmd = (
        " ".join(["bash bench/run.sh", *argv[1:]])
        if argv and argv[0].endswith(("__main__.py", "bench"))
        else res["command"]
    )
    add(f"- **Date:** {f['date']}; the whole run took {res['elapsed_s'] / 60:.1f} min (`{cmd}`).")
    load = ""
    if "load_average" in f and "load_average_end" in res:
        start, end = f["load_average"][0], res["load_average_end"][0]
        busy = max(start, end) > 2.5
        load = (
            f" Load average (1 min) {start:.1f} at the start, {end:.1f} at the end of the "
            f"loads: {'other work competed for the cores' if busy else 'little other work'}."
        )
    add(
        f"- **Machine:** {f['cpu']}, {f['memory_gib']} GiB, Linux {f['kernel']}; "
        "client, service, Redis and Postgres all on this machine, over loopback." + load
    )
    pk = f["packages"]
    add(
        f"- **Versions:** Python {f['python']}, litestar {pk['litestar']}, uvicorn "
        f"{pk['uvicorn']} (uvloop {pk['uvloop']}, httptools {pk['httptools']}), redis-py "
        f"{pk['redis']} + hiredis {pk['hiredis']}, asyncpg {pk['asyncpg']}, msgspec "
        f"{pk['msgspec']}; Redis {f['redis_server']}; PostgreSQL {f['postgres']}; {f['wrk']}."
    )
    add(
        f"- **Service:** `leaderboard serve --workers {w}` with default settings "
        "(no access log; uvloop, httptools). "
        "**Ceiling:** a bare Litestar app (`bench/hello_app.py`, "
        f'`GET /hello` → `{{"status":"ok"}}`) under the same uvicorn options and {w} workers.'
    )
    add(
        f"- **Load:** `wrk -t1 -c{c} -d{d:g}s --latency` per endpoint (scripts in "
        "`bench/lua/`); one run each; on this kind of machine runs vary by ±15–20 % "
        '(see "Baselines" below), so read the ratios, which come from one run. The bare '
        f"endpoint ran first and last ({runs['hello']['rps']:,.0f} and "
        f"{runs['hello_end']['rps']:,.0f} req/s); the ratios use their mean, "
        f"{bare:,.0f} req/s."
    )
    ld = res["load"]
    add(
        f"- **Boards:** {sizes} players ({ld['rows']:,} score rows), loaded in "
        f"{ld['load_s']:.0f} s (COPY + pipelined ZADD/HSET) + {ld['vacuum_s']:.0f} s "
        "VACUUM ANALYZE. The preloaded index of the smallest board is checked against the "
        f"service's own `leaderboard rebuild`: identical = {res['rebuild_check']['identical']}.\n"
    )
    return out
