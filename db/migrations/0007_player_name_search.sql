-- Finding a board's players by the start of their display name (the live page's search):
-- a case-insensitive prefix match that an index can answer.
CREATE INDEX players_name_prefix ON players (lower(display_name) text_pattern_ops);
