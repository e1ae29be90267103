"""The "Why" lines of the fan-out's targets (report_why.py holds the others)."""

from __future__ import annotations

from bench.records_players import Fanout, FanoutStep

BUSY_CLIENT = 0.85  # a client process this busy (cores) may be what held a step back


def _per_delivery(s: FanoutStep) -> float:
    """The service's CPU µs per delivered event (one event to one subscriber)."""
    return s["service_cores"] * 1e6 / s["events_per_s"] if s["events_per_s"] else 0.0


def fanout_why(f: Fanout, top: FanoutStep | None) -> list[str]:
    s, n = f["base"], f["subscribers"]
    kib = (f["rss_subscribed"] - f["rss_before"]) / max(n, 1) / 1024
    out = [
        f"- **Fan-out at {s['target_rate']:g} submissions/s to {n:,} subscribers: "
        f"submission p99 {s['submit_latency']['p99_ms']:,.1f} ms, delivery p99 "
        f"{s['from_answered']['p99_ms']:,.0f} ms from the answer "
        f"({s['from_sent']['p99_ms']:,.0f} ms from the send), {s['delivered']:,} of "
        f"{s['expected']:,} delivered.** An accepted submission publishes its event once, "
        "on the board's Redis channel; each worker holds one pub/sub subscription for all "
        "of its clients (`events/hub.py`). The hub frames the event once (`lib/ws_frames.py`: "
        "one WebSocket frame's bytes, shared by every subscriber) and writes it straight to "
        "the socket of each subscriber that is caught up; only a subscriber that is behind "
        "(its socket's buffer full) gets it queued for its own task. The subscribers offer "
        "permessage-deflate as browsers do and the service declines it by default "
        "(`LEADERBOARD_WS_COMPRESSION`): compression works per connection, so it would "
        "compress every event once per subscriber. One event is thus one publish, one "
        f"pub/sub message per worker and {n:,} socket writes of the same bytes, in the "
        "event loops that also answer the submissions: here the service spent "
        f"{s['service_cores']:.2f} cores on {s['events_per_s']:,.0f} deliveries a second, "
        f"{_per_delivery(s):,.0f} µs per delivered event, and a submission waits behind "
        "the writes of the events before it. "
        f"{s['before_answer']:,} deliveries arrived before their submission's answer (the "
        "event is published before the answer is written). Each connected subscriber "
        f"holds ~{kib:,.0f} KiB of the service's memory "
        f"({f['rss_before'] / 2**20:,.0f} → {f['rss_subscribed'] / 2**20:,.0f} MiB for "
        f"{n:,}): its socket and buffers, its queue and its task." + _first_step_tail(f),
    ]
    last = f["ceiling"][-1] if f["ceiling"] else s
    client = last["subscriber_cores"] + last["submitter_cores"]
    ours = client + last["service_cores"] + last["postgres_cores"] + last["redis_cores"]
    load = last.get("load_average", 0.0)
    if last["subscriber_cores"] >= BUSY_CLIENT:
        why = (
            "the subscribers' process (Python, one core at most) was itself near its limit, "
            "so the ceiling shown is a floor of what the service delivers on this machine, "
            "not its ceiling."
        )
    elif ours < 1.5 and load > 2.5:
        why = (
            f"together they used {ours:.2f} of the 2 cores while the machine's load average "
            f"was {load:.1f}: other work on the machine had the rest, the service waited for "
            "a core, and this step measured the machine's load more than the service."
        )
    else:
        why = "the service's workers, not the client, set the limit."
    limit = (
        f"At the last step ({last['target_rate']:g}/s) the client's processes used "
        f"{client:.2f} cores and the service {last['service_cores']:.2f}, of the machine's "
        f"2: {why}"
    )
    out.append(
        (
            f"- **Ceiling: {top['events_per_s']:,.0f} events/s at {top['target_rate']:g} "
            f"submissions/s (target 100,000).** "
            if top
            else "- **Ceiling: no step kept delivery p99 within 1 s (target 100,000 events/s).** "
        )
        + f"Each delivered event cost the service ~{_per_delivery(last):,.0f} µs of CPU at "
        "the last step (one socket write in Python, and its "
        "share of the submissions and the dispatch); at that cost two whole cores would "
        f"deliver about {2e6 / max(_per_delivery(last), 1):,.0f} events a second, and this "
        "machine does not give the workers two whole cores: the clients, Postgres and "
        "Redis run on them too. "
        + limit
        + f" Memory: {f['rss_after'] / 2**20:,.0f} MiB after the last step, "
        f"{f['rss_closed'] / 2**20:,.0f} MiB once the subscribers had gone."
    )
    return out


def _first_step_tail(f: Fanout) -> str:
    """Why the first step's tail is worse than the faster step after it, when it is."""
    s = f["base"]
    if (
        not f["ceiling"]
        or f["ceiling"][0]["submit_latency"]["p99_ms"] >= s["submit_latency"]["p99_ms"]
    ):
        return ""
    nxt = f["ceiling"][0]
    return (
        f" The step after it, at {nxt['target_rate']:g} submissions/s, had a submission p99 "
        f"of {nxt['submit_latency']['p99_ms']:,.1f} ms and a delivery p99 of "
        f"{nxt['from_answered']['p99_ms']:,.0f} ms: the first step's tail comes from a few "
        "seconds near its start, right after the subscribers connected, not from its rate. "
        "Postgres had been let finish the loads' background work first (above), and a probe "
        "in the workers (docs/decisions.md D-049) found their loops late in those seconds "
        "but no garbage collection; what runs late there is not yet found."
    )
