"""Every Redis key and channel name the service uses, so the keyspace reads at a glance.

All keys of one leaderboard carry the hash tag ``{<id>}`` so that, on a Redis Cluster,
they live in one slot and one Lua script may touch them together. Keys other than the
leaderboard indexes themselves always get a TTL where they are written.

``prefix`` (``LEADERBOARD_REDIS_KEY_PREFIX``, empty by default) lets several deployments
or test sessions share one Redis; with the default the names below are exactly the
contract's (for example ``leaderboard:{weekly-race}:events``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IndexKeys:
    """The keys of one leaderboard period's index; all share the board's hash tag."""

    scores: str
    """Sorted set: member ``<reached seq, 16 hex>:<player id>``, score the stored score
    (negated on ``desc`` boards, so that rank 1 is always the lowest Redis score)."""
    members: str
    """Hash: player id → the 16-hex sequence of that player's member in ``scores`` (the
    member is ``<sequence>:<player id>``; indexes written before this held the member)."""
    ready: str
    """Marker: present once the index is complete (rebuilt or kept since); its value is the
    run id of the Redis server it was built on, so a restart (whose append-only file may
    have lost its last writes) or a failover is noticed (index_guard.py)."""
    lock: str
    """Held (with a TTL) while the index is being rebuilt."""
    journal: str
    """Changes applied while a rebuild runs, replayed into the new index (TTL of the lock)."""
    check: str
    """Held (TTL: the check interval) by the worker checking this index against Postgres."""
    cursors: str
    """Hash: where the rolling check goes on (``player``: a player id, ``rank``: a rank);
    TTL 1 day."""
    digest: str
    """Hash: bucket (the player id's first three hex digits, as a number) → the digest of
    its entries, changed in the same step as ``scores`` (ranking/index_digest.lua); the
    index guard compares it with Postgres' score_digests. The index's lifetime."""
    distinct: str
    """Sorted set of the distinct Redis scores of ``scores`` (member: the score as an
    integer, score: the same), so that a dense rank is one ``ZCOUNT`` (docs/ranking.md)."""

    def temporary(self, token: str) -> tuple[str, str]:
        """Where a rebuild writes the new index before swapping it in (with a TTL)."""
        return f"{self.scores}:tmp:{token}", f"{self.members}:tmp:{token}"

    def temporary_digest(self, token: str) -> str:
        """Where a rebuild writes the new index's digest (swapped in with it)."""
        return f"{self.digest}:tmp:{token}"

    def temporary_distinct(self, token: str) -> str:
        """Where a rebuild writes the new distinct scores (with a TTL)."""
        return f"{self.distinct}:tmp:{token}"


@dataclass(frozen=True, slots=True)
class CohortKeys:
    """The keys of one league cohort's index; all share the league's hash tag."""

    scores: str
    """Sorted set as a board's (docs/ranking.md): member ``<seq, 16 hex>:<player id>``,
    score the stored score, negated on ``desc`` leagues."""
    members: str
    """Hash: player id → the 16-hex sequence of the player's member."""
    ready: str
    """Marker: present once the index holds the cohort (filled from Postgres)."""


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str = ""

    def pattern(self) -> str:
        """A SCAN pattern matching every key of this deployment (used by tests and tools)."""
        return f"{self.prefix}*"

    def session(self, player_id: str, token_hash: str) -> str:
        """A session: hash {player_id, created_ms, max_ms, touched_ms}; sliding TTL.

        Keyed by the SHA-256 of the token (the token itself is never stored), under the
        player's hash tag so that ending all of a player's sessions is one script.
        """
        return f"{self.session_prefix(player_id)}{token_hash}"

    def session_prefix(self, player_id: str) -> str:
        return f"{self.prefix}session:{{{player_id}}}:"

    def player_sessions(self, player_id: str) -> str:
        """Set of a player's session token hashes, to end them all; TTL = session max age."""
        return f"{self.prefix}player:{{{player_id}}}:sessions"

    def profile(self, player_id: str) -> str:
        """Cached profile: hash of its fields plus ``v`` (row version); TTL 1 h ± 10 %.

        Also holds tombstones (``tomb`` = 1, during a write) and negative entries
        (``missing`` = 1, unknown or deleted player); see players/cache.py.
        """
        return f"{self.prefix}player:{{{player_id}}}:profile"

    def device(self, device_hash_hex: str) -> str:
        """The player a device signs in as (a string); players/devices.py.

        ``!`` while the player is being banned or deleted (TTL 1 min); else the TTL is
        ``device_cache_ttl_seconds``, renewed on each sign-in. Keyed by the device id's
        SHA-256, as Postgres keeps it.
        """
        return f"{self.prefix}device:{{{device_hash_hex}}}"

    def rate_limit(self, scope: str, subject: str) -> str:
        """Sliding-window log of one subject under one policy scope (a sorted set with a TTL).

        ``scope`` names the policy (``auth``, ``scores:<board id>``); ``subject`` is who is
        limited (a player id, a client address). The subject is the hash tag, so on a
        cluster each subject's limiter lives in its own slot.
        """
        return f"{self.prefix}ratelimit:{scope}:{{{subject}}}"

    def server_key(self, key_id: str) -> str:
        """A server key's grant (JSON), or ``revoked`` / ``missing``.

        TTL 10 min (1 min when missing). Filled only where absent, so a revocation is never
        overwritten.
        """
        return f"{self.prefix}serverkey:{{{key_id}}}"

    def board_config(self, board_id: str) -> str:
        """Cached board configuration (JSON string); TTL 1 h, deleted on change."""
        return f"{self.prefix}board:{{{board_id}}}:config"

    def invalidations(self) -> str:
        """Pub/sub channel on which workers tell each other to drop cached copies.

        See lib/invalidation.py. One hash tag, so on a cluster one shard carries it.
        """
        return f"{self.prefix}cache:{{invalidations}}"

    def board_pattern(self, board_id: str) -> str:
        """SCAN pattern of every index key of a board (all periods)."""
        return f"{self.prefix}lb:{{{board_id}}}:*"

    def index(self, board_id: str, period: str, country: str | None = None) -> IndexKeys:
        """The index of one period (``all`` for boards that never reset, else its start date).

        Leaderboard data: on boards that never reset these keys have no TTL; a periodic
        board's keys expire a week after their period ends (past periods rebuilt on demand
        live an hour). ``country``: the period's index of that country's players only (a
        segmented board's), under the same hash tag; built from Postgres when first read.
        """
        base = f"{self.prefix}lb:{{{board_id}}}:{period}"
        if country is not None:
            base = f"{base}:country:{country}"
        return IndexKeys(
            scores=f"{base}:z",
            members=f"{base}:m",
            ready=f"{base}:ready",
            lock=f"{base}:lock",
            journal=f"{base}:journal",
            check=f"{base}:check",
            cursors=f"{base}:cursors",
            digest=f"{base}:digest",
            distinct=f"{base}:d",
        )

    def suspects(self, board_id: str) -> str:
        """Sorted set of ``<period key>|<player id>`` whose write's outcome was unknown.

        Score: until when to keep checking them (ms); TTL 1 h from the last one added.
        """
        return f"{self.prefix}lb:{{{board_id}}}:suspects"

    def idempotent_answer(self, board_id: str, player_id: str, key_digest: str) -> str:
        """The answer to a submission with an Idempotency-Key (JSON); TTL 24 h.

        ``key_digest`` is the SHA-256 of the key (a key may hold any printable character).
        In the player's slot, beside the player's rate-limit log for the board: one script
        answers a repeat or takes a slot (scores/admit.lua), also on a Redis Cluster.
        """
        return f"{self.prefix}idem:{{{player_id}}}:{board_id}:{key_digest}"

    def events_channel(self, leaderboard_id: str) -> str:
        """Pub/sub channel of a board's rank-change events (public contract)."""
        return f"{self.prefix}leaderboard:{{{leaderboard_id}}}:events"

    def events_channel_pattern(self) -> str:
        """PSUBSCRIBE pattern of every board's events channel."""
        return f"{self.prefix}leaderboard:{{*}}:events"

    def league_events_channel(self, league_id: str) -> str:
        """Pub/sub channel of a league's events: zone_changed, season_ended (public contract)."""
        return f"{self.prefix}league:{{{league_id}}}:events"

    def league_events_channel_pattern(self) -> str:
        """PSUBSCRIBE pattern of every league's events channel."""
        return f"{self.prefix}league:{{*}}:events"

    def events_stream(self, leaderboard_id: str) -> str:
        """Stream of a board's last events (capped with MAXLEN ~); TTL 7 days from the last."""
        return f"{self.prefix}lb:{{{leaderboard_id}}}:events"

    def league_events_stream(self, league_id: str) -> str:
        """Stream of a league's last events (capped with MAXLEN ~); TTL 7 days from the last."""
        return f"{self.prefix}lg:{{{league_id}}}:events"

    def league_pattern(self, league_id: str) -> str:
        """SCAN pattern of every key of a league (its cohorts, its stream, its markers)."""
        return f"{self.prefix}lg:{{{league_id}}}:*"

    def cohort(self, league_id: str, season: int, cohort: str) -> CohortKeys:
        """The index of one cohort of one season: a sorted set like a board's.

        Every key of a league carries the league's hash tag, so a cohort's keys (and the
        league's event stream and channel, which its scripts write) share one slot.
        Leaderboard data, but with a TTL: a week after the season's scheduled end (the
        season's close deletes them before).
        """
        base = f"{self.prefix}lg:{{{league_id}}}:{season}:{cohort}"
        return CohortKeys(scores=f"{base}:z", members=f"{base}:m", ready=f"{base}:ready")

    def season_announced(self, league_id: str, season: int, batch: int) -> str:
        """Marker: batch ``batch`` of a closed season's ``season_ended`` events went out.

        Set by the script that publishes the batch (NX), so a batch is published once
        whoever runs the close and however often; TTL 7 days.
        """
        return f"{self.prefix}lg:{{{league_id}}}:closed:{season}:{batch}"
