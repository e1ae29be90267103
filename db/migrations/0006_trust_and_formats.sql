-- Trusted writes, moderation and competitive formats (CONTRACT v1.1).

-- Board rules: who may submit, which values, when, how often.
ALTER TABLE leaderboards
    ADD COLUMN client_submissions boolean NOT NULL DEFAULT true,
    ADD COLUMN min_score bigint CHECK (min_score BETWEEN -9007199254740991 AND 9007199254740991),
    ADD COLUMN max_score bigint CHECK (max_score BETWEEN -9007199254740991 AND 9007199254740991),
    ADD COLUMN starts_at timestamptz,
    ADD COLUMN ends_at timestamptz,
    ADD COLUMN max_submissions integer CHECK (max_submissions >= 1),
    ADD COLUMN overtake_events integer NOT NULL DEFAULT 10
        CHECK (overtake_events BETWEEN 0 AND 100),
    ADD CONSTRAINT leaderboards_score_bounds CHECK (min_score <= max_score),
    ADD CONSTRAINT leaderboards_window CHECK (starts_at < ends_at);

-- Banned players keep their rows; every read hides them (they are not in the indexes)
-- and the score upsert refuses them.
ALTER TABLE players
    ADD COLUMN banned_at timestamptz,
    ADD COLUMN ban_reason text CHECK (char_length(ban_reason) <= 500);

-- Credentials of game servers: only the SHA-256 of the secret part is kept.
CREATE TABLE server_keys (
    id           uuid PRIMARY KEY,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 128),
    secret_hash  bytea NOT NULL CHECK (octet_length(secret_hash) = 32),
    -- NULL: every board; else the ids of the boards it may submit to.
    leaderboards text[],
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);

-- Every write by the admin or a server key: who, what, to what, and which request.
CREATE TABLE audit_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text NOT NULL,
    action     text NOT NULL,
    target     text NOT NULL,
    request_id text,
    details    jsonb NOT NULL DEFAULT '{}'::jsonb
);

-- A banned player's rows, kept but left out of every index (rebuilds, checks). Set on
-- ban, cleared on unban; metadata-only with its constant default.
ALTER TABLE scores ADD COLUMN hidden boolean NOT NULL DEFAULT false;
