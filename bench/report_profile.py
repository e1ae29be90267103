"""The report's profile section: where a submission's time goes, from py-spy."""

from __future__ import annotations

from bench.records import Results


def profile_section(res: Results) -> list[str]:
    """Nothing when the run has no profile (--no-profile, or py-spy missing)."""
    prof = res.get("profile")
    pr = res["runs"].get("submit_profiled")
    if not prof or not pr:
        return []
    out: list[str] = []
    add = out.append
    add("## Where a submission's time goes (py-spy)\n")
    who = "(signed-in players, random scores) " if res.get("players") else ""
    add(
        f"`py-spy record --rate 200 --nonblocking --full-filenames --format raw` on each of "
        f"the "
        f"{prof['workers']} workers during a {pr['duration_s']:.0f} s submission run {who}"
        f"({pr['rps']:,.0f} req/s under the profiler; {prof['samples']:,} samples of "
        "busy CPU, idle excluded). Top 5 functions by own (self) time:\n"
    )
    add("| # | function | file | share of busy samples | what it is |")
    add("|---:|---|---|---:|---|")
    for i, row in enumerate(prof["top_self"], 1):
        add(
            f"| {i} | `{row['function']}` | `{row['file']}` | {row['pct']:.1f} % | "
            f"{row.get('note', '')} |"
        )
    if prof["by_package"]:
        add("\nSelf time by package:\n")
        add("| package | share |")
        add("|---|---:|")
        for pkg in prof["by_package"]:
            add(f"| {pkg['package']} | {pkg['pct']:.1f} % |")
    add(
        "\nInclusive time of the submission's steps (share of busy samples whose stack "
        "contains the step; the rest is uvicorn, Litestar routing/DI and the event loop). "
        "`--nonblocking` samples some coroutine stacks only partly, so these are lower "
        "bounds:\n"
    )
    add("| step | share |")
    add("|---|---:|")
    for st in prof["steps"]:
        add(f"| {st['step']} | {st['pct']:.1f} % |")
    add("")
    return out
