"""The report's "Why" section: for each target, what the figure is made of.

The explanations are fixed text (what the code does, what the benchmark measures); the
figures in them come from the run, so the text never disagrees with the tables. Where a
run lacks a measurement (results of runs before it existed), its line is left out.
"""

from __future__ import annotations

from bench.records import MixRecord, Results, WrkRecord
from bench.records_players import Fanout, PlayerLoads
from bench.report_common import bare_cpu, changed_share, cpu_of, store_cpu, whole_cpu
from bench.report_fanout_why import fanout_why
from bench.report_players import best_ceiling


def _mix(res: Results, name: str, kind: str | None = None) -> MixRecord | None:
    mixed = res.get("mixed")
    if not mixed:
        return None
    return next(
        (m for m in mixed["mixes"] if m["name"] == name and m.get("submissions") == kind), None
    )


def _parts(run: WrkRecord) -> str:
    own, stores = cpu_of(run) or 0.0, store_cpu(run) or (0.0, 0.0)
    return f"the service {own:,.0f} µs, Postgres {stores[0]:,.0f}, Redis {stores[1]:,.0f}"


def _profile_line(res: Results) -> str:
    prof = res.get("profile")
    if not prof:
        return "(No profile in this run.)"
    shares = {r["package"]: r["pct"] for r in prof["by_package"]}
    frame = sum(shares.get(p, 0.0) for p in ("asyncio", "uvicorn", "litestar"))
    drivers = sum(shares.get(p, 0.0) for p in ("asyncpg", "redis"))
    ours = shares.get("leaderboard", 0.0)
    return (
        f"In the profile below (signed-in, random scores), the event loop, uvicorn and "
        f"Litestar take {frame:.0f} % of a submitting worker's busy samples, the two drivers "
        f"{drivers:.0f} % and our own code {ours:.0f} %."
    )


def _change_cost(diff: float, base: float) -> str:
    """What the rising variant's difference from the random one says."""
    what = "the index write, the event on the board's channel, the top pages dropped"
    if diff > 0.1 * base:
        return f"The rising variant's extra {diff:,.0f} µs is what a change costs on top: {what}."
    return (
        f"The rising variant differs by {diff:+,.0f} µs, within this run's noise: what a "
        f"change adds ({what}) is small beside the rest."
    )


def _players_why(res: Results, p: PlayerLoads, bare: float) -> list[str]:
    rnd, rise, signin = p["submit_random"], p["submit_rising"], p["signin"]
    w_rnd, w_rise, w_in = whole_cpu(rnd) or 0.0, whole_cpu(rise) or 0.0, whole_cpu(signin) or 0.0
    admin = whole_cpu(res["runs"]["submit"])
    share = changed_share(rnd)
    changed = f"{share:.0%}" if share is not None else "an unknown share"
    c = res["connections"]
    return [
        f"- **Signed-in submission: {w_rnd:,.0f} µs with random scores, {w_rise:,.0f} µs "
        f"with rising ones: {w_rnd / bare:.2f}× and {w_rise / bare:.2f}× a bare request's "
        f"{bare:,.0f} µs (target {2.5}×).** Random: {_parts(rnd)}; rising: {_parts(rise)}. "
        "A player's submission takes its rate-limit slot in Redis, checking the session "
        "token in the same call when the worker does not hold it (a worker keeps the "
        "sessions it checked for a few seconds), commits in Postgres (group commit with the "
        "submissions of the same moment) and applies the result to the Redis index: two "
        "script calls, each shared with the calls of the same moment. With random scores "
        f"{changed} of them changed the player's best here; the rest still update the "
        "player's row in Postgres (the submission count) but move nothing in the index, "
        "publish no event and leave the top pages cached. "
        + _change_cost(w_rise - w_rnd, w_rnd)
        + (f" The admin path (earlier rounds' line) costs {admin:,.0f} µs." if admin else "")
        + " "
        + _profile_line(res)
        + " So most of a submission's CPU is per-request work of the frameworks and the "
        "Python side of the round trips, the same as the bare request's times several, "
        "plus what Postgres and Redis spend themselves.",
        f"- **Sign-in of a known device: {w_in:,.0f} µs, {w_in / bare:.2f}× (target 2.0×).** "
        f"Spent by {_parts(signin)}. A sign-in takes the address' rate-limit slot and looks "
        "the device up in the device directory (two scripts in one Redis round trip), then "
        "creates the session (a second); a known device costs Postgres nothing (D-045). "
        "What remains is two redis-py round trips and the framework's work per request.",
        f"- **p99 against p50 at {c} connections: {rnd['p99_ms'] / rnd['p50_ms']:.1f}× "
        f"(random), {rise['p99_ms'] / rise['p50_ms']:.1f}× (rising), target 3×.** With "
        f"{c} connections and two workers every submission queues behind the others in its "
        "worker's event loop, and each of its steps waits for its batch (the group commit, "
        "the script pipeline): the p50 is mostly that queue, and the tail is where a "
        "request's steps each landed behind a full batch, or a worker paused (the machine's "
        "other work on the two cores). Full garbage collections were most of that tail "
        "(40-60 ms each, every few seconds per worker) until the workers froze what "
        "start-up built (D-049). A rising score changes the index every time: its "
        "submissions carry events and drop the top pages, so their batches are heavier.",
    ]


def _mixed_why(res: Results) -> list[str]:
    rnd, rise = _mix(res, "top-100", "random"), _mix(res, "top-100", "rising")
    if rnd is None or rise is None:
        old = _mix(res, "top-100")
        return [] if old is None else [_old_mixed_why(old)]

    def hit(m: MixRecord) -> str:
        c = m["cache"]
        return f"{c['hit_rate']:.0%}" if c and c["hit_rate"] is not None else "–"

    def side(m: MixRecord) -> str:
        w, r = m["writes"], m["reads"]
        return (
            f"submissions kept {w['ratio']:.0%} (p99 {w['run']['p99_ms']:.0f} ms), top-100 "
            f"reads {r['ratio']:.0%}, cache hits {hit(m)}"
        )

    share = changed_share(rnd["writes"]["run"])
    changed = f"{share:.0%}" if share is not None else "–"

    def misses(m: MixRecord) -> str:
        c = m["cache"]
        if not c:
            return "not read"
        return f"{c['misses']:,.0f} rebuilds, {c.get('shared', 0.0):,.0f} readers joining one"

    cpu_r, cpu_s = rnd["cpu_us_per_request"] or 0.0, rise["cpu_us_per_request"] or 0.0
    if cpu_s > 1.1 * cpu_r:
        verdict = ": the rebuilt pages are the difference"
    elif cpu_r > 1.1 * cpu_s:
        verdict = ", the other way round from the rebuilds: this run's noise is larger"
    else:
        verdict = ": the rebuilds, shared by the readers that miss together, cost little"
    return [
        f"- **Mixed load, random scores: {side(rnd)}; rising scores: {side(rise)}.** The "
        "top-100 page comes from each worker's cache of top pages (`ranking/page_cache.py`, "
        "500 ms): a change that a worker applies drops the cached pages of the ranks it "
        "touches at once, so that the worker never hides its own changes. A random score "
        f"changed the player's best in {changed} of these submissions, and a changed best "
        "drops the top page only when it lands in the top 100; a rising score puts its "
        "player first every time, so every submission drops the top page in the worker "
        "that applied it (those applied in one batch drop it once) and the next reader "
        "there rebuilds it from Redis (one index read "
        "and the names, several times a cached read's CPU). The top-100 readers' cache "
        f"saw {misses(rnd)} beside random submissions, {misses(rise)} beside rising ones; "
        f"the workers spent {cpu_r:,.0f} and {cpu_s:,.0f} µs per request of both loads "
        f"together{verdict}. While a worker has a write in flight its reads take turns "
        "(`lib/priority.py`: at most `LEADERBOARD_READ_SLOTS` run at once), so a "
        "submission's next step waits for a few reads, not for every ready one; the two "
        "kinds still share the same two cores."
    ]


def _old_mixed_why(mix: MixRecord) -> str:
    w, r = mix["writes"], mix["reads"]
    return (
        f"- **Mixed load: submissions kept {w['ratio']:.0%}, p99 {w['run']['p99_ms']:.0f} ms; "
        f"top-100 reads kept {r['ratio']:.0%}.** (Admin submissions, from a run before "
        "signed-in players were measured.)"
    )


def _reads_why(res: Results) -> list[str]:
    runs = res["runs"]
    rank = cpu_of(runs["rank"]) or 0.0
    around = cpu_of(runs["around"]) or 0.0
    top = cpu_of(runs["top100"]) or 0.0
    mem = max(r["ratio_to_bare"] for r in res["redis"])
    return [
        f"- **Rank lookup, {rank:,.0f} µs (earlier target 160); around ±5, {around:,.0f} µs "
        "(190).** Each is one `index_read.lua` call that returns the entries' display names "
        "too, so the read is the bare request plus one shared Redis round trip plus "
        "routing and encoding. One redis-py round trip costs more Python CPU than the whole "
        "bare request (Baselines: ~240 µs unbatched), so 160 µs is out of reach with "
        "redis-py on the path; it would take a cache in front of the index (changing what a "
        "player sees of their own rank) or a thinner Redis client.",
        f"- **Top-100, {top:,.0f} µs (earlier target 100).** Served from the worker's page "
        "cache without touching Redis; what is left over the bare request is routing with a "
        "path and query parameters, the board's settings, the metrics and request-id layer, "
        "encoding 100 entries and writing ~10 KB.",
        f"- **Memory, {mem:.2f}× (earlier target 1.8×).** The exact tie rule needs each "
        "entry's sequence in the member and a player → sequence field (Reading the "
        "results, below); with the sequence as 8 raw bytes and the player id as its 16 "
        "bytes the estimate is 1.6–1.7×, a change of the index format left for its own "
        "change.",
    ]


def why_section(res: Results) -> list[str]:
    out = ["## Why each target was met or missed\n"]
    p, bare = res.get("players"), bare_cpu(res["runs"])
    if p and bare:
        out += _players_why(res, p, bare)
    out += _mixed_why(res)
    fan: Fanout | None = res.get("fanout")
    if fan:
        out += fanout_why(fan, best_ceiling([fan["base"], *fan["ceiling"]]))
    out += _reads_why(res)
    out += _earlier_misses(res)
    out.append("")
    return out


def _earlier_misses(res: Results) -> list[str]:
    """Earlier rounds' targets that this run missed: what the run itself says about it."""
    runs = res["runs"]
    first, last = runs["hello"]["rps"], runs["hello_end"]["rps"]
    drift = abs(first - last) / max(first, last)
    by = res["rank_by_size"]
    p50s = [r["single"]["p50_ms"] for r in by]
    paced = runs["submit_paced"]
    missed = []
    if max(p50s) > 1.2 * min(p50s):
        missed.append(
            "rank lookups ±20 % across sizes (one-connection p50s "
            + ", ".join(f"{p:.2f}" for p in p50s)
            + " ms)"
        )
    if paced["p99_ms"] >= 20:
        missed.append(f"submission p99 at half the peak rate ({paced['p99_ms']:.1f} ms)")
    if not missed:
        return []
    return [
        f"- **Earlier targets missed in this run: {'; '.join(missed)}.** These figures are "
        "the ones the machine's other load moves most: a one-connection p50 is under a "
        "millisecond, and a p99 is the worst 1 % of a run. The bare endpoint itself ran at "
        f"{first:,.0f} req/s at the start and {last:,.0f} at the end of this run "
        f"({drift:.0%} apart). Compare the rank lookup's server CPU per request across sizes, "
        "which stays level, and the earlier runs in the git history of this page."
    ]
