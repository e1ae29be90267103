-- History (CONTRACT v1.2, "One board, several views"): each ended period's final
-- standings, frozen once by one worker (ranking/results.py), so that a player's history
-- is one query whatever the number of periods. `span` is the reset the period belongs to
-- (a board's spans share its rows; today a board has one, its reset).
CREATE TABLE period_results (
    leaderboard_id   text NOT NULL REFERENCES leaderboards (id) ON DELETE CASCADE,
    span             text NOT NULL,
    player_id        uuid NOT NULL,
    period_start     date NOT NULL,
    score            bigint NOT NULL,
    rank             integer NOT NULL,  -- ordinal: by score, then who reached it first
    competition_rank integer NOT NULL,  -- 1 + the entries scoring better
    dense_rank       integer NOT NULL,  -- 1 + the distinct better scores
    total            integer NOT NULL,  -- the period's entries
    -- By period: a period's results are replaced whole when moderation changes them.
    PRIMARY KEY (leaderboard_id, span, period_start, player_id)
);
-- A player's history, newest first (one range of this index); also finds a deleted
-- player's rows. No foreign key to players: freezing a million entries checks none.
CREATE INDEX period_results_player
    ON period_results (player_id, leaderboard_id, span, period_start);

-- Which periods are frozen: the row is inserted by the statement that freezes the period,
-- so a period is frozen once whatever the number of workers.
CREATE TABLE period_closes (
    leaderboard_id text NOT NULL REFERENCES leaderboards (id) ON DELETE CASCADE,
    span           text NOT NULL,
    period_start   date NOT NULL,
    entries        integer NOT NULL,
    closed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (leaderboard_id, span, period_start)
);
