-- GET /v1/audit?action=&actor=&leaderboard=: each filter reads its entries newest first
-- from an index (audit/repository.py builds the conditions), instead of walking the whole
-- log back from its newest entry until a page is full. The board filter matches a
-- target's board part: "leaderboard:<id>", alone or before "/player:<id>".
-- IF NOT EXISTS: on a large log an operator may build them beforehand, CONCURRENTLY,
-- without blocking audited writes (docs/operations.md).
CREATE INDEX IF NOT EXISTS audit_log_action ON audit_log (action, id);
CREATE INDEX IF NOT EXISTS audit_log_actor ON audit_log (actor, id);
CREATE INDEX IF NOT EXISTS audit_log_leaderboard ON audit_log (split_part(target, '/', 1), id);
