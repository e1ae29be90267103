-- Facts about this installation that belong with the data, not with a process:
-- the install id (stable across restarts and workers) and when the schema was created.
-- Later migrations add players, leaderboards and scores.
CREATE TABLE service_info (
    key        text PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO service_info (key, value) VALUES ('install_id', gen_random_uuid()::text);
