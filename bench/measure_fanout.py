"""The fan-out: many WebSocket subscribers of one board, and paced submissions to it.

1,000 subscribers (bench/fanout_subscribers.py, a process of their own) listen on
``/v1/leaderboards/bench-fanout/ws``; a board made for it, with ``overtake_events`` 0 so
that each submission publishes exactly one event (its ``rank_changed``) and every event
names its submission. Then bench/fanout_submitter.py (another process) submits as random
signed-in players at 50 a second, each score above the last: every one changes the best
and is announced. Each step measures the submissions' latency, each event's delivery to
each subscriber (received - the submission's answer, and - its send: one monotonic clock
on this machine), and counts what was missing, twice, or dropped for a slow reader.

Then the ceiling: the same at rising rates until delivery p99 passes 1 s (or an event is
lost), with the events delivered per second (each event to each subscriber once), the
CPU of the service, Postgres, Redis and of the two client processes, and the service's
memory before the subscribers came, with them, after the steps and after they left.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from array import array
from pathlib import Path
from typing import IO, Any

import httpx
import psutil

from bench.common import ROOT, RUN, Mode, console
from bench.percentiles import latency
from bench.players import RisingScores, SignedIn, board_body
from bench.records_players import Fanout, FanoutStep
from bench.servers import Servers
from bench.store_cpu import StoreCpu, StoreMeter

BOARD = "bench-fanout"
SUBSCRIBERS = {"full": 1000, "quick": 1000, "smoke": 20}
PROCESSES = 1  # subscriber processes (each holds SUBSCRIBERS / PROCESSES connections)
RATE = 50.0  # submissions per second, the issue's
SECONDS = {"full": 10.0, "quick": 5.0, "smoke": 1.0}
CEILING_SECONDS = {"full": 5.0, "quick": 3.0, "smoke": 1.0}
CEILING_RATES: dict[Mode, list[float]] = {
    "full": [100, 200, 400, 800, 1600],
    "quick": [100, 200, 400, 800],
    "smoke": [100],
}
CEILING_P99_MS = 1000.0
QUIET_S = 5.0  # a step's collection ends this long after the last event, if not before


class SubscriberProcesses:
    """The subscribers' processes: started, told to collect a step, stopped."""

    def __init__(self, url: str, n: int, processes: int) -> None:
        shares = [n // processes + (1 if k < n % processes else 0) for k in range(processes)]
        self.procs = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.fanout_subscribers", url, str(share)],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for share in shares
        ]
        try:
            ready = [self._line(p, "READY").split(maxsplit=2) for p in self.procs]
        except BaseException:
            for p in self.procs:
                p.kill()
                p.wait()
            raise
        self.connect_s = max(float(r[1]) for r in ready)
        self.extensions = ready[0][2] if len(ready[0]) > 2 else ""

    @staticmethod
    def _line(proc: subprocess.Popen[str], word: str) -> str:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith(word):
            raise RuntimeError(f"fan-out subscribers: expected {word}, got {line!r}")
        return line.strip()

    @staticmethod
    def _send(proc: subprocess.Popen[str], command: str) -> None:
        stdin: IO[str] | None = proc.stdin
        assert stdin is not None
        stdin.write(command + "\n")
        stdin.flush()

    def cpu_seconds(self) -> float:
        total = 0.0
        for p in self.procs:
            with contextlib.suppress(psutil.Error):
                t = psutil.Process(p.pid).cpu_times()
                total += t.user + t.system
        return total

    def collect(self, submissions: Path, out: Path) -> dict[str, Any]:
        """Every process' counts added up, and the delays of all of them."""
        outs = [out.with_name(f"{out.name}-{k}") for k in range(len(self.procs))]
        for p, o in zip(self.procs, outs, strict=True):
            self._send(p, f"COLLECT {submissions} {o} {QUIET_S}")
        for p in self.procs:
            self._line(p, "DONE")
        total: dict[str, Any] = {}
        answered, sent = array("d"), array("d")
        for o in outs:
            part = json.loads(o.with_suffix(".json").read_text())
            for k in ("delivered", "missing", "duplicates", "unexpected", "dropped", "closed"):
                total[k] = total.get(k, 0) + part[k]
            for k, pick in (("first_receipt", min), ("last_receipt", max)):
                values = [v for v in (total.get(k), part[k]) if v is not None]
                total[k] = pick(values) if values else None
            answered.frombytes(o.with_suffix(".answered").read_bytes())
            sent.frombytes(o.with_suffix(".sent").read_bytes())
        total["from_answered"], total["from_sent"] = answered, sent
        return total

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                with contextlib.suppress(OSError):
                    self._send(p, "QUIT")
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def setup_board(base: str, admin_token: str) -> None:
    admin = {"Authorization": f"Bearer {admin_token}"}
    body = board_body(BOARD, overtake_events=0)
    httpx.post(f"{base}/v1/leaderboards", json=body, headers=admin, timeout=30).raise_for_status()


class Fan:
    """One fan-out measurement: the processes, the meters, and a step at a given rate."""

    def __init__(
        self,
        servers: Servers,
        meter: StoreMeter,
        subs: SubscriberProcesses,
        subscribers: int,
        tokens: str,
    ) -> None:
        self.servers, self.meter, self.subs, self.tokens = servers, meter, subs, tokens
        self.subscribers = subscribers
        self.scores = RisingScores(start=1_000_000_000, step=10_000_000)

    def step(self, rate: float, seconds: float) -> FanoutStep:
        base = self.servers.base
        name = f"fanout-{rate:g}"
        submitted = RUN / f"{name}-submissions.txt"
        svc0, st0, cl0 = self.servers.cpu_seconds(base), self.meter.read(), self.subs.cpu_seconds()
        t0 = time.monotonic()
        done = subprocess.run(
            [
                *(sys.executable, "-m", "bench.fanout_submitter", base, BOARD, self.tokens),
                *(str(rate), str(seconds), str(self.scores.next()), str(submitted)),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=seconds + 300,  # a starved service answers a step slowly
            check=True,
        )
        sub: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        got = self.subs.collect(submitted, RUN / f"{name}-received")
        wall = time.monotonic() - t0
        svc = self.servers.cpu_seconds(base) - svc0
        stores = StoreCpu.between(st0, self.meter.read())
        client = self.subs.cpu_seconds() - cl0
        window = (got["last_receipt"] - sub["first_sent"]) if got["last_receipt"] else 0.0
        # CPU is read around the whole step (the submitter's start, the collection); it is
        # spent while events flow, so it is divided by that time (the whole step's if none).
        busy = window if window > 0 else wall
        answered = max(sub["last_answered"] - sub["first_sent"], 1e-9)
        step: FanoutStep = {
            "target_rate": rate,
            "seconds": seconds,
            "submitted": sub["submitted"],
            "accepted": sub["accepted"],
            "submit_errors": sub["errors"],
            "submit_rate": sub["accepted"] / answered if sub["accepted"] else 0.0,
            "submit_latency": sub["from_sent"],
            "submit_latency_scheduled": sub["from_schedule"],
            "unchanged": sub["unchanged"],
            "expected": sub["announced"] * self.subscribers,
            "delivered": got["delivered"],
            "missing": got["missing"],
            "duplicates": got["duplicates"],
            "unexpected": got["unexpected"],
            "dropped": got["dropped"],
            "closed": got["closed"],
            "from_answered": latency(got["from_answered"]),
            "from_sent": latency(got["from_sent"]),
            "before_answer": sum(1 for d in got["from_answered"] if d < 0),
            "events_per_s": got["delivered"] / window if window > 0 else 0.0,
            "window_s": window,
            "service_cores": svc / busy,
            "postgres_cores": stores.postgres_s / busy,
            "redis_cores": stores.redis_s / busy,
            "subscriber_cores": client / busy,
            "submitter_cores": sub["cpu_s"] / busy,
            "load_average": os.getloadavg()[0],
        }
        say(step)
        return step


def say(s: FanoutStep) -> None:
    d, w = s["from_answered"], s["submit_latency"]
    console.print(
        f"  fan-out {s['target_rate']:>6g}/s: {s['accepted']:,} accepted "
        f"({s['submit_rate']:,.0f}/s, p99 {w['p99_ms']:.1f} ms), "
        f"{s['delivered']:,}/{s['expected']:,} delivered ({s['events_per_s']:,.0f}/s), "
        f"delivery p50/p99 {d['p50_ms']:.0f}/{d['p99_ms']:.0f} ms, missing {s['missing']:,}, "
        f"dup {s['duplicates']}, dropped {s['dropped']:,}; cores: service "
        f"{s['service_cores']:.2f}, subscribers {s['subscriber_cores']:.2f}; machine load "
        f"{s['load_average']:.1f}"
    )


def measure(
    mode: Mode,
    servers: Servers,
    meter: StoreMeter,
    admin_token: str,
    signed: SignedIn,
) -> Fanout:
    base = servers.base
    setup_board(base, admin_token)
    n = SUBSCRIBERS[mode]
    url = base.replace("http://", "ws://") + f"/v1/leaderboards/{BOARD}/ws"
    rss_before = servers.service_rss()
    subs = SubscriberProcesses(url, n, PROCESSES)
    try:
        console.print(
            f"  {n:,} subscribers connected in {subs.connect_s:.1f} s "
            f"(extensions: {subs.extensions or 'none'})"
        )
        rss_subscribed = servers.service_rss()
        fan = Fan(servers, meter, subs, n, signed.tokens_file)
        first = fan.step(RATE, SECONDS[mode])
        ceiling: list[FanoutStep] = []
        for rate in CEILING_RATES[mode]:
            step = fan.step(rate, CEILING_SECONDS[mode])
            ceiling.append(step)
            if step["from_answered"]["p99_ms"] > CEILING_P99_MS or step["missing"]:
                break
        rss_after = servers.service_rss()
    finally:
        subs.stop()
    time.sleep(1.0)  # the workers notice the closed sockets and release their streams
    return {
        "board": BOARD,
        "subscribers": n,
        "processes": PROCESSES,
        "connect_s": subs.connect_s,
        "extensions": subs.extensions,
        "base": first,
        "ceiling": ceiling,
        "rss_before": rss_before,
        "rss_subscribed": rss_subscribed,
        "rss_after": rss_after,
        "rss_closed": servers.service_rss(),
    }
