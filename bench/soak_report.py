"""The soak's verdicts and its printed report."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from bench.common import console
from bench.soak_load import Tally
from bench.soak_procs import FaultResult, Tracked

WARM_UP_S = 300.0  # memory is judged after a process's first five minutes
MAX_GROWTH = 0.10
# Growth below this is never a finding: a Postgres auxiliary process holds 0.3-0.9 MiB
# of its own, which one allocation moves by 10 % (its checkpointer's first checkpoint
# comes at minute 5, right on the warm-up's end, and steps it up once).
NOISE_MIB = 1.0


@dataclass
class Verdict:
    pid: int
    role: str
    title: str
    baseline_mib: float | None  # RSS once the process was five minutes old (and the soak too)
    last_mib: float
    judged_s: float  # how long after the baseline the last sample came
    growth: float | None  # of RSS; None: the process did not live long enough to judge
    private_growth: float | None  # of USS (RSS without shared pages)
    private_mib: tuple[float, float] | None  # USS at the baseline and at the end

    @property
    def judged_growth(self) -> float | None:
        """What the verdict looks at: RSS, but private memory for Postgres.

        A Postgres process' RSS counts each page of the shared buffer pool it has touched,
        so it grows for minutes while the pool warms up, without any memory of its own.
        """
        return self.private_growth if self.role == "Postgres" else self.growth

    @property
    def judged_mib(self) -> float:
        """How many MiB the judged measure grew by."""
        if self.role == "Postgres" and self.private_mib is not None:
            return self.private_mib[1] - self.private_mib[0]
        return self.last_mib - (self.baseline_mib or self.last_mib)

    @property
    def ok(self) -> bool:
        growth = self.judged_growth
        return growth is None or growth < MAX_GROWTH or self.judged_mib < NOISE_MIB


def memory_verdicts(tracked: dict[int, Tracked]) -> list[Verdict]:
    """Per process: memory growth from its five-minute mark to its last sample.

    A process judged must have lived at least five more minutes after that mark; the
    others (a worker started by a fault, each Valkey between restarts, short-lived
    Postgres backends) are listed without a verdict.
    """
    verdicts = []
    for process in tracked.values():
        last = process.samples[-1]
        mark = max(WARM_UP_S, process.born_s + WARM_UP_S)
        baseline = next((s for s in process.samples if s.at_s >= mark), None)
        judged = last.at_s - baseline.at_s if baseline is not None else 0.0
        growth = private = None
        private_mib = None
        if baseline is not None and judged >= WARM_UP_S:
            growth = last.rss / baseline.rss - 1
            private = last.uss / baseline.uss - 1
            private_mib = (baseline.uss / 2**20, last.uss / 2**20)
        verdicts.append(
            Verdict(
                process.pid,
                process.role,
                process.title,
                baseline.rss / 2**20 if baseline is not None else None,
                last.rss / 2**20,
                judged,
                growth,
                private,
                private_mib,
            )
        )
    return verdicts


def print_report(
    args: argparse.Namespace,
    tally: Tally,
    faults: list[FaultResult],
    lost: list[str],
    converged_s: float | None,
    diverged: list[str],
    verdicts: list[Verdict],
    load_avg: list[tuple[float, float, float]],
    log: str,
) -> bool:
    """Print the report; True when every check passed."""
    out = console.print
    out(f"\n[bold]Soak report[/] ({args.minutes} min, {args.workers} workers)")
    total = sum(tally.submissions.values())
    out(f"submissions: {total:,} ({_statuses(tally.submissions)})")
    out(f"reads: {sum(tally.reads.values()):,} ({_statuses(tally.reads)})")
    minutes = range(1, args.minutes)
    quiet = [m for m in minutes if tally.events_by_minute[m] == 0]
    out(
        f"events received: {sum(tally.events_by_minute.values()):,}; minutes without any: "
        f"{quiet or 'none'}; stream reconnects: {dict(tally.stream_reconnects)}; "
        f"players signed in again: {tally.signed_in_again}"
    )
    out("faults:")
    for kind in ("worker killed", "Valkey restarted", "Postgres paused"):
        times = [f.recovered_s for f in faults if f.fault == kind]
        done = [t for t in times if t is not None]
        worst = f", slowest {max(done):.1f} s" if done else ""
        out(f"  {kind}: {len(times)}, recovered {len(done)}{worst}")
    unrecovered = [f for f in faults if f.recovered_s is None]
    out(f"acknowledged submissions: {len(tally.acknowledged):,}; lost: {len(lost)}")
    for line in lost[:10]:
        out(f"  [red]lost[/] {line}")
    if converged_s is None:
        out(f"[red]ranks served did not converge[/] to Postgres: {diverged}")
    else:
        out(f"ranks served equal Postgres' {converged_s:.1f} s after the load stopped")
    judged = [v for v in verdicts if v.growth is not None]
    out(
        f"memory, {len(judged)} of {len(verdicts)} processes lived long enough to judge "
        "(RSS; for Postgres its private part, as RSS counts the shared buffer pool; a "
        f"finding grows by {MAX_GROWTH:.0%} and {NOISE_MIB:g} MiB at least):"
    )
    for v in sorted(judged, key=lambda v: (v.role, v.pid)):
        mark = "ok" if v.ok else "[red]grew[/]"
        assert v.growth is not None
        assert v.private_growth is not None
        assert v.baseline_mib is not None
        assert v.private_mib is not None
        name = f"{v.role} ({v.title})" if v.title else v.role
        out(
            f"  {name} {v.pid}, over {v.judged_s / 60:.0f} min: RSS {v.baseline_mib:.1f} → "
            f"{v.last_mib:.1f} MiB ({v.growth:+.1%}), private {v.private_mib[0]:.2f} → "
            f"{v.private_mib[1]:.2f} MiB ({v.private_growth:+.1%}) {mark}"
        )
    servers = [v for v in verdicts if v.growth is None]
    by_role: dict[str, list[Verdict]] = {}
    for v in servers:
        by_role.setdefault(v.role, []).append(v)
    for role, vs in sorted(by_role.items()):
        out(
            f"  {role}: {len(vs)} short-lived, last RSS up to {max(v.last_mib for v in vs):.1f} MiB"
        )
    tracebacks = log.count("Traceback")
    errors = log.count('"level":"error"')
    out(f"service log: {errors} error lines, {tracebacks} tracebacks")
    peak = max(load_avg, key=lambda x: x[0])
    out(f"machine load average: first {load_avg[0][0]:.2f}, peak {peak[0]:.2f} (1 min)")
    server_errors = tally.submissions[500] + tally.reads[500]
    ok = not lost and converged_s is not None and not unrecovered and all(v.ok for v in judged)
    ok = ok and server_errors == 0 and not quiet
    out("[bold green]soak passed[/]" if ok else "[bold red]soak failed[/]")
    return ok


def _statuses(counts: dict[int, int]) -> str:
    return ", ".join(f"{code or 'no answer'}: {n:,}" for code, n in sorted(counts.items()))
