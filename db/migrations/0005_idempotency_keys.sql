-- Exactly-once submissions: a submission carrying an Idempotency-Key inserts its key here
-- in the same statement (and so the same transaction) that applies its score. A repeat
-- finds the key and changes nothing, also when the first attempt's outcome was unknown to
-- its client (a timeout after the statement was sent, a broken connection).
-- Rows older than 24 hours are deleted by the service (index_guard.py).
CREATE TABLE idempotency_keys (
    leaderboard_id text NOT NULL REFERENCES leaderboards (id) ON DELETE CASCADE,
    player_id      uuid NOT NULL REFERENCES players (id) ON DELETE CASCADE,
    key            text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 128),
    -- SHA-256 of what was submitted (score, metadata): the same key with another body is 422.
    request_hash   bytea NOT NULL,
    period_start   date NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (leaderboard_id, player_id, key)
);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
