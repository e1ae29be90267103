"""The machine and the versions a run measured, for the report's "This run"."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

import asyncpg
import psutil
from redis.asyncio import Redis

from bench.records import Facts

PACKAGES = ("litestar", "uvicorn", "uvloop", "httptools", "redis", "hiredis", "asyncpg", "msgspec")


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def cpu_model() -> str:
    return next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )


async def gather(db_url: str, redis: Redis) -> Facts:
    conn = await asyncpg.connect(db_url)
    try:
        pg: str = await conn.fetchval("SHOW server_version")
        shared: str = await conn.fetchval("SHOW shared_buffers")
    finally:
        await conn.close()
    info = await redis.info("server")
    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{os.cpu_count()} × {cpu_model()}",
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": {p: version(p) for p in PACKAGES},
        "redis_server": str(info.get("redis_version")),
        "postgres": f"{pg} (shared_buffers {shared})",
        "wrk": wrk_v.split(" [")[0],
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
