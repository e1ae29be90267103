"""Summarise a py-spy ``--format raw`` (collapsed stacks) profile of the service workers."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent

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


def summarise(raw_path: Path, top: int = 5) -> dict:
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
        short = short.split("/lib/python3.11/")[-1].removeprefix(str(_ROOT) + "/")
        self_time[(func, short)] += count
        package = _package(path)
        if package:
            by_package[package] += count
        names = {f for f, _ in frames}
        for step, name in STEPS.items():
            if name in names:
                inclusive[step] += count
    pct = (lambda n: 100.0 * n / samples) if samples else (lambda n: 0.0)
    return {
        "samples": samples,
        "top_self": [
            {"function": f, "file": p, "pct": pct(n), "note": NATIVE_NOTES.get(f, "")}
            for (f, p), n in self_time.most_common(top)
        ],
        "by_package": [{"package": k, "pct": pct(n)} for k, n in by_package.most_common(8)],
        "steps": [{"step": k, "pct": pct(inclusive[k])} for k in STEPS if k in inclusive],
    }
