"""The report's "Why" section: for each of this round's targets, what the figure is made of.

The explanations are fixed text (what the code does and what was measured while changing
it); the figures in them come from the run, so the text never disagrees with the tables.
"""

from __future__ import annotations

from bench.records import MixRecord, Results
from bench.report_common import bare_cpu, cpu_of


def _mix(res: Results, name: str) -> MixRecord | None:
    mixed = res.get("mixed")
    return next((m for m in mixed["mixes"] if m["name"] == name), None) if mixed else None


def why_section(res: Results) -> list[str]:
    runs = res["runs"]
    bare = bare_cpu(runs) or 0.0
    submit = cpu_of(runs["submit"]) or 0.0
    rank = cpu_of(runs["rank"]) or 0.0
    around = cpu_of(runs["around"]) or 0.0
    top = cpu_of(runs["top100"]) or 0.0
    prof = res.get("profile")
    shares = {r["package"]: r["pct"] for r in (prof["by_package"] if prof else [])}
    frame = sum(shares.get(p, 0.0) for p in ("asyncio", "uvicorn", "litestar"))
    drivers = sum(shares.get(p, 0.0) for p in ("asyncpg", "redis"))
    ours = shares.get("leaderboard", 0.0)
    profile_line = (
        f"In the profile below, the event loop, uvicorn and Litestar take {frame:.0f} % of a "
        f"submitting worker's busy samples, the two drivers {drivers:.0f} % and our own code "
        f"{ours:.0f} %."
        if prof
        else "(No profile in this run.)"
    )
    mem = max(r["ratio_to_bare"] for r in res["redis"])
    out = [
        "## Why each target was met or missed\n",
        f"- **Submission, {submit:,.0f} µs (target 190).** A bare request costs {bare:,.0f} µs "
        "here; a submission adds a JSON body, a guard, and three steps that wait on each other "
        "(the rate limiter's script, the Postgres upsert, the index script), each a round trip "
        f"that concurrent submissions share (`lib/batching.py`). {profile_line} So most of the "
        "cost is the frameworks' per-request work and the Python side of the round trips, not "
        "the leaderboard's logic, and no single lever is worth the 3× left: the ones this "
        "round weighed are in docs/decisions.md (D-023) with what each measured. One price "
        "was paid on purpose: a call that finds its batcher idle goes at once instead of "
        "waiting a loop turn for company (the starvation fix below), which halves the mean "
        "batch (an A/B at 1 worker: upserts 6.2 → 3.2 per statement, scripts 6.6 → 3.7 "
        "per pipeline) and raised asyncpg's CPU per submission from ~16 to ~56 µs.",
        f"- **Rank lookup, {rank:,.0f} µs (target 160); around ±5, {around:,.0f} µs (target "
        "190).** Each is one `index_read.lua` call that returns the entries' display names "
        "too (the second round trip for names is gone), so the read is the bare request plus "
        "one shared Redis round trip plus routing and encoding. One redis-py round trip costs "
        "more Python CPU than the whole bare request (Baselines: ~240 µs unbatched), so 160 µs "
        "is out of reach with redis-py on the path; it would take a cache in front of the "
        "index (changing what a player sees of their own rank) or a thinner Redis client.",
        f"- **Top-100, {top:,.0f} µs (target 100).** Served from the worker's page cache "
        "without touching Redis; what is left over the bare request is routing with a path "
        "and query parameters, the board's settings, the metrics and request-id layer, "
        "encoding 100 entries and writing ~10 KB. Caching the encoded bytes instead of the "
        "page would save the encoding, but msgspec encodes a 100-entry page in ~14 µs "
        "(measured alone on this machine): not worth a second cache path.",
        f"- **Memory, {mem:.2f}× (target 1.8×).** The exact tie rule needs each entry's "
        "sequence in the member and a player → sequence field (Reading the results, below). "
        "With the sequence as 8 raw bytes instead of 16 hex digits in both, and the player id "
        "as its 16 bytes instead of 36 characters in the member, the estimate is 1.6–1.7×. That "
        "is a change of the index format "
        "(every index rebuilt at the upgrade, binary-safe reads in every script and in the "
        "Python that decodes them) and was left for its own change.",
    ]
    top_mix = _mix(res, "top-100")
    if top_mix is not None:
        out.append(_mixed_why(top_mix, submit, top))
    out += _earlier_misses(res)
    out.append("")
    return out


def _mixed_why(mix: MixRecord, submit_cpu: float, top_cpu: float) -> str:
    w, r = mix["writes"], mix["reads"]
    cache = mix["cache"]
    hit = f"{cache['hit_rate']:.0%}" if cache and cache["hit_rate"] is not None else "–"
    # The workers' CPU in the mixed run, priced at each side's solo CPU per request: what
    # the reads would have kept had the submissions been held to their 25 % floor.
    spent = w["run"]["rps"] * submit_cpu + r["run"]["rps"] * top_cpu
    floor = 0.25 * w["solo"]["rps"]
    reads_then = (spent - floor * submit_cpu) / top_cpu / r["solo"]["rps"] if top_cpu else 0.0
    return (
        f"- **Mixed load: submissions kept {w['ratio']:.0%}, p99 {w['run']['p99_ms']:.0f} ms; "
        f"top-100 reads kept {r['ratio']:.0%}.** A cached read ends in one turn of the event "
        "loop; a submission needs several (each step waits for its batch), and every turn "
        "waits behind every ready read: with 48 readers, that is where the p99 goes. Two "
        "changes cut what submissions lose: a call that finds its batcher idle goes at once, "
        "in its own task, and readers that miss the same top page share one Redis read "
        "(before, each change sent every reader waiting for the rebuilt page to Redis on its "
        f"own; cache hits beside submissions here: {hit}, counting shared reads). The two "
        "sides share the same CPU, and a submission costs "
        f"{submit_cpu / max(top_cpu, 1):.1f}× a cached read: priced at their solo CPU per "
        "request, the workers' CPU in this run would have let the reads keep "
        f"{reads_then:.0%} had the submissions been held to 25 %. So the two goals trade "
        "against each other, and the event loop has no way to give one kind of request a "
        "share: it serves whatever is ready, in order. A p99 under 50 ms beside 48 busy "
        "readers would need submissions served ahead of reads inside a worker, which asyncio "
        "does not offer; a deployment that needs it sends `POST …/scores` to workers of "
        "their own (docs/operations.md)."
    )


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
