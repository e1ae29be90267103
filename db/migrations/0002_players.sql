-- Players and their profiles. The device id is a credential: only its SHA-256 is kept.
-- `version` grows by one on every change; the Redis profile cache is guarded by it.
CREATE TABLE players (
    id           uuid PRIMARY KEY,
    device_hash  bytea NOT NULL UNIQUE CHECK (octet_length(device_hash) = 32),
    display_name text NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 64),
    avatar_url   text CHECK (char_length(avatar_url) <= 512),
    country      text CHECK (country ~ '^[A-Z]{2}$'),
    metadata     jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
    version      bigint NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
