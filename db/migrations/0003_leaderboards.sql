-- Leaderboards and their scores. Postgres is the record; the Redis indexes are rebuilt
-- from `scores` whenever they are lost (docs/data-model.md, docs/ranking.md).
CREATE TABLE leaderboards (
    id                  text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    name                text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 128),
    sort_order          text NOT NULL CHECK (sort_order IN ('desc', 'asc')),
    operator            text NOT NULL CHECK (operator IN ('best', 'latest', 'sum')),
    reset               text NOT NULL CHECK (reset IN ('never', 'daily', 'weekly', 'monthly')),
    rate_limit          integer NOT NULL CHECK (rate_limit >= 1),
    rate_window_seconds integer NOT NULL CHECK (rate_window_seconds >= 1),
    metadata            jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
    created_at          timestamptz NOT NULL DEFAULT now()
);

-- Orders every change of a stored score: "who reached this score first" is the smaller
-- reached_seq. Unique across all boards, never reused.
CREATE SEQUENCE score_reached_seq AS bigint;

CREATE TABLE scores (
    leaderboard_id text NOT NULL REFERENCES leaderboards (id) ON DELETE CASCADE,
    -- Start of the period (UTC date); 1970-01-01 for boards that never reset.
    period_start   date NOT NULL,
    player_id      uuid NOT NULL REFERENCES players (id) ON DELETE CASCADE,
    score          bigint NOT NULL CHECK (score BETWEEN -9007199254740991 AND 9007199254740991),
    reached_seq    bigint NOT NULL,
    reached_at     timestamptz NOT NULL,
    submissions    integer NOT NULL DEFAULT 1,
    metadata       jsonb,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (leaderboard_id, period_start, player_id)
);

-- A player's entries on every board (player deletion removes them from each index).
CREATE INDEX scores_player ON scores (player_id);
