"""Profile the service's workers with py-spy during a load, and summarise the profile.

py-spy comes from the `bench` dependency group (bench/run.sh); without it there is no
profile and the report leaves its section out.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bench.common import ROOT, RUN, console
from bench.records import PackageRow, Profile, ProfileSummary, StepRow, TopSelfRow

if TYPE_CHECKING:
    from bench.wrk import WrkResult

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")

# Steps of the submission path whose inclusive cost is worth naming (qualified names as
# py-spy prints them).
STEPS = {
    "ScoreService.submit (the request's own part)": "ScoreService.submit",
    "BoardService.get (board config)": "BoardService.get",
    "ScriptPipeline._run_batch (pipelined Lua: limiter + index apply)": (
        "ScriptPipeline._run_batch"
    ),
    "ScoreWriter._run_batch (group-committed Postgres upserts)": "ScoreWriter._run_batch",
    "KwargsModel.resolve_dependencies (Litestar DI)": "KwargsModel.resolve_dependencies",
    "provide_principal (admin token check)": "provide_principal",
    "SessionStore.resolve (a player's session token)": "SessionStore.resolve",
    "negotiated (response encoding)": "negotiated",
    "PrometheusMiddleware (request metrics, whole request inside)": "PrometheusMiddleware",
}


# Frames that are a leaf only because the work below them is native code.
NATIVE_NOTES = {
    "Runner.run": "uvloop's event loop in C: socket I/O, callbacks, scheduling",
    "Connection._do_execute": "asyncpg's Cython protocol: encode, send, decode",
    "Connection.execute": "asyncpg simple query (Cython)",
    "RequestResponseCycle.send": "uvicorn response write (httptools)",
    "StreamWriter.writelines": "redis-py sending a command (asyncio streams)",
}


def _parse(frame: str) -> tuple[str, str]:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip(), ""
    return m["func"], m["file"]


def _package(path: str) -> str | None:
    """Top-level package of a frame's file (py-spy --full-filenames); None when unknown."""
    p = path.replace("\\", "/")
    for marker in ("site-packages/", "/lib/python3.11/", "/lib/python3.12/", "/lib/python3.13/"):
        if marker in p:
            return p.split(marker, 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/leaderboard/" in p:
        return "leaderboard"
    return None


def record(
    pids: list[int], secs: int, load: Callable[[], WrkResult]
) -> tuple[WrkResult, Profile] | None:
    """Run ``load`` while py-spy records each of ``pids`` for ``secs`` seconds.

    None (and nothing run) when py-spy is not installed.
    """
    spy = shutil.which("py-spy")
    if spy is None:
        console.print("[yellow]py-spy not found (run through bench/run.sh); no profile[/]")
        return None
    spies = []
    for pid in pids:
        out = RUN / f"profile-{pid}.txt"
        cmd = [spy, "record", "--pid", str(pid), "--duration", str(secs), "--rate", "200"]
        cmd += ["--nonblocking", "--full-filenames", "--format", "raw", "--output", str(out)]
        spies.append(
            (
                out,
                subprocess.Popen(
                    cmd,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    start_new_session=True,
                ),
            )
        )
    time.sleep(0.5)
    r = load()
    raw = RUN / "profile.txt"
    with raw.open("w") as merged:
        for out, p in spies:
            _, err = p.communicate(timeout=60)
            if out.exists():
                merged.write(out.read_text())
            else:
                console.print(f"[yellow]py-spy failed: {err.decode()[-300:]}[/]")
    summary: Profile = {**summarise(raw), "raw": str(raw.relative_to(ROOT)), "workers": len(pids)}
    for row in summary["top_self"]:
        console.print(f"  {row['pct']:5.1f} %  {row['function']}  ({row['file']})")
    return r, summary


def summarise(raw_path: Path, top: int = 5) -> ProfileSummary:
    samples = 0
    self_time: Counter[tuple[str, str]] = Counter()
    by_package: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for line in raw_path.read_text().splitlines():
        stack, _, count_s = line.rpartition(" ")
        if not stack or not count_s.isdigit():
            continue
        count = int(count_s)
        frames = [_parse(f) for f in stack.split(";")]
        # py-spy puts the thread/process name first; the leaf is the last frame.
        samples += count
        func, path = frames[-1]
        short = path.split("site-packages/")[-1] if "site-packages/" in path else path
        short = short.split("/lib/python3.11/")[-1].removeprefix(str(ROOT) + "/")
        self_time[(func, short)] += count
        package = _package(path)
        if package:
            by_package[package] += count
        names = {f for f, _ in frames}
        for step, name in STEPS.items():
            if name in names:
                inclusive[step] += count

    def pct(n: int) -> float:
        return 100.0 * n / samples if samples else 0.0

    top_self: list[TopSelfRow] = [
        {"function": f, "file": p, "pct": pct(n), "note": NATIVE_NOTES.get(f, "")}
        for (f, p), n in self_time.most_common(top)
    ]
    packages: list[PackageRow] = [
        {"package": k, "pct": pct(n)} for k, n in by_package.most_common(8)
    ]
    steps: list[StepRow] = [{"step": k, "pct": pct(inclusive[k])} for k in STEPS if k in inclusive]
    return {"samples": samples, "top_self": top_self, "by_package": packages, "steps": steps}
