"""The report's sections on signed-in players and on the fan-out to WebSocket subscribers.

Each is left out for results that do not have it (runs before these measurements).
"""

from __future__ import annotations

from bench.records import Results, WrkRecord
from bench.records_players import Fanout, FanoutStep, Latency
from bench.report_common import bare_cpu, changed_share, cpu_of, store_cpu, whole_cpu


def _ratio(cpu: float | None, bare: float | None) -> str:
    return f"{cpu / bare:.2f}×" if cpu and bare else "–"


def _row(name: str, r: WrkRecord, bare: float | None, *, stores: bool = True) -> str:
    own, split = cpu_of(r), store_cpu(r)
    whole = whole_cpu(r) if stores else own
    share = changed_share(r)
    pg, rd = (f"{split[0]:,.0f}", f"{split[1]:,.0f}") if split and stores else ("–", "–")
    return (
        f"| {name} | {r['rps']:,.0f} | {r['p50_ms']:.2f} / {r['p99_ms']:.2f} | "
        f"{r['p99_ms'] / r['p50_ms']:.1f}× | {f'{own:,.0f}' if own else '–'} | {pg} | {rd} | "
        f"{f'{whole:,.0f}' if whole else '–'} | {_ratio(whole, bare)} | "
        f"{f'{share:.0%}' if share is not None else '–'} | {r['non_2xx']} / "
        f"{r['errors'] - r['non_2xx']} |"
    )


def players_section(res: Results) -> list[str]:
    p = res.get("players")
    if not p:
        return []
    runs = res["runs"]
    bare = bare_cpu(runs)
    c = res["connections"]
    out: list[str] = []
    add = out.append
    add(f"## Signed-in players ({res['workers']} workers, {c} connections)\n")
    add(
        f"Before the loads, {p['devices']:,} devices signed in with `POST /v1/auth/device` "
        f"({p['sign_in_s']:.0f} s; each call made its player and opened a session). The "
        f"first {p['players']:,} of them are the players of two boards made for them, "
        "each seeded with one random score per player. A submission is sent as a random "
        "one of them, with that player's own session token (`Authorization: Bearer`, "
        "`bench/lua/player_submit.lua`): on `"
        f"{p['board']}` a random score from 1 to {p['max_score']:,}, so most leave the "
        f"player's best as it was; on `{p['rising_board']}` a score above every stored one, "
        "so every one changes it and moves the player to the top. A sign-in is "
        "`POST /v1/auth/device` with a random one of the known devices "
        "(`bench/lua/signin.lua`): it finds the player and opens a new session. The admin "
        "line is the earlier rounds' submission (admin token, a random preloaded player, "
        "rising scores) on the smallest preloaded board.\n"
    )
    add(
        "| load | req/s | p50 / p99 ms | p99 ÷ p50 | service CPU µs/req | Postgres µs/req | "
        "Redis µs/req | whole µs/req | ÷ bare | changed the best | non-2xx / socket errors |"
    )
    add("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    add(_row("bare Litestar `GET /hello` (start)", runs["hello"], bare, stores=False))
    add(_row("bare Litestar `GET /hello` (end)", runs["hello_end"], bare, stores=False))
    add(_row("submit as a player, random score", p["submit_random"], bare))
    add(_row("submit as a player, rising score", p["submit_rising"], bare))
    add(_row("sign in a known device", p["signin"], bare))
    add(_row("submit as the admin, rising score (earlier rounds)", runs["submit"], bare))
    created = (p["signin"].get("counters") or {}).get("created", 0)
    others = max(
        (r.get("redis_other_clients") or 0)
        for r in (p["submit_random"], p["submit_rising"], p["signin"])
    )
    add(
        "\n*Whole* is the CPU (user + system) of every process of the service, plus the "
        "Postgres backends serving the benchmark's database (found in `pg_stat_activity` "
        "four times a second, each one's CPU read with psutil), plus the whole "
        "redis-server (`INFO cpu`), per answered request; *÷ bare* compares it with the "
        "bare app's own CPU per request in the same run (nothing else serves a bare "
        f"request). Sign-ins that made a player: {created} (every device was known). "
        "Postgres' background processes (WAL writer, checkpointer, autovacuum) serve every "
        "database of the server and are not counted. Redis' figure is the whole server's: "
        + (
            f"**{others} clients of other Redis dbs were connected during these runs**, and "
            "their work is in it."
            if others
            else "no client of another db was connected during these runs."
        )
        + "\n"
    )
    return out


def _lat(lat: Latency) -> str:
    return f"{lat['p50_ms']:.1f} / {lat['p99_ms']:.1f} / {lat['max_ms']:.0f}"


def _step_row(s: FanoutStep) -> str:
    lost = s["missing"] + s["duplicates"] + s["unexpected"]
    return (
        f"| {s['target_rate']:g} | {s['submit_rate']:,.0f} | {_lat(s['submit_latency'])} | "
        f"{s['delivered']:,} of {s['expected']:,} | {lost:,} | {s['dropped']:,} | "
        f"{_lat(s['from_answered'])} | {_lat(s['from_sent'])} | "
        f"{s['events_per_s']:,.0f} | {s['service_cores']:.2f} | "
        f"{s['postgres_cores'] + s['redis_cores']:.2f} | "
        f"{s['subscriber_cores']:.2f} + {s['submitter_cores']:.2f} | "
        f"{s.get('load_average', 0.0):.1f} |"
    )


def fanout_section(res: Results) -> list[str]:
    f = res.get("fanout")
    if not f:
        return []
    mib = 2**20
    where = "a process" if f["processes"] == 1 else f"{f['processes']} processes"
    out: list[str] = []
    add = out.append
    add(f"## Fan-out: {f['subscribers']:,} WebSocket subscribers of one board\n")
    add(
        f"{f['subscribers']:,} clients (Python, the `websockets` library, in {where} of "
        "their own: `bench/fanout_subscribers.py`) hold `/v1/leaderboards/"
        f"{f['board']}/ws` open, offering permessage-deflate as browsers do (the service "
        f"answered `{f['extensions'] or 'no extension'}`); they were all subscribed "
        f"{f['connect_s']:.1f} s after the first connected. Another process "
        "(`bench/fanout_submitter.py`) submits as random signed-in players on a fixed "
        "schedule (open loop: a slow answer does not hold the next send back), each score "
        "above the last, so each submission changes its player's best and publishes one "
        "event (the board has `overtake_events` 0, so every event belongs to one "
        "submission and names it by its score). Each subscriber records when each event "
        "arrived; *delivery* is that moment minus the submission's answer (or its send), "
        "on the machine's one monotonic clock. *Lost* counts (subscriber, submission) "
        "pairs never received, received twice, or not of this step; *dropped* is what the "
        "service told slow readers it dropped (`events_dropped`). Cores are CPU seconds "
        "per second of the step, from the first send to the last receipt; the client's "
        "(subscribers + submitter) share the machine's 2 cores with the service; *machine "
        "load* is the 1-minute load average at the step's end (above 2, other work waited "
        "for the cores too)." + _settled(f) + "\n"
    )
    add(
        "| submissions/s asked | accepted/s | submission p50 / p99 / max ms | delivered | "
        "lost | dropped | delivery from answer p50 / p99 / max ms | from send p50 / p99 / "
        "max ms | events/s delivered | service cores | Postgres + Redis cores | client "
        "cores (subscribers + submitter) | machine load |"
    )
    add("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    add(_step_row(f["base"]))
    for s in f["ceiling"]:
        add(_step_row(s))
    top = best_ceiling([f["base"], *f["ceiling"]])
    add(
        "\nThe first row is the issue's load (50 submissions a second); the rows below it "
        "raise the rate until delivery p99 passes 1 s or an event is lost. "
        + (
            f"Highest rate delivered with p99 ≤ 1 s: **{top['events_per_s']:,.0f} events/s** "
            f"({top['target_rate']:g} submissions/s to {f['subscribers']:,} subscribers)."
            if top
            else "No step kept delivery p99 within 1 s."
        )
        + f" Memory of the service (resident, every process): {f['rss_before'] / mib:,.0f} "
        f"MiB before the subscribers, {f['rss_subscribed'] / mib:,.0f} MiB with them "
        f"connected, {f['rss_after'] / mib:,.0f} MiB after the last step, "
        f"{f['rss_closed'] / mib:,.0f} MiB a second after they left.\n"
    )
    return out


def best_ceiling(steps: list[FanoutStep]) -> FanoutStep | None:
    """The step with the most events delivered per second while p99 stayed within 1 s."""
    ok = [
        s
        for s in steps
        if s["from_answered"]["p99_ms"] <= 1000 and not s["missing"] and not s["duplicates"]
    ]
    return max(ok, key=lambda s: s["events_per_s"], default=None)


def _settled(f: Fanout) -> str:
    settled = f.get("settled")
    if settled is None:
        return ""
    how = (
        f"then {settled['waited_s']:.0f} s until no autovacuum ran and the machine was idle"
        if settled["idle"]
        else f"then {settled['waited_s']:.0f} s without the machine becoming idle"
    )
    return (
        " Before the first step the benchmark let Postgres finish what the big boards' "
        f"loads left (`bench/settle.py`): a `CHECKPOINT` of {settled['checkpoint_s']:.1f} s, "
        f"{how} (the machine was {settled['busy_before']:.0%} busy before)."
    )
