-- Verified results (CONTRACT v1.2): a ledger of submissions, the review of held ones, voids.

-- Board rules: how many whole days the ledger keeps a submission (0: no ledger), and
-- which player submissions wait for a decision before they count.
ALTER TABLE leaderboards
    ADD COLUMN ledger_days integer NOT NULL DEFAULT 30 CHECK (ledger_days BETWEEN 0 AND 3650),
    ADD COLUMN review text NOT NULL DEFAULT 'none' CHECK (review IN ('none', 'rules', 'all')),
    ADD COLUMN review_jump bigint CHECK (review_jump >= 1),
    ADD COLUMN review_top integer CHECK (review_top >= 1),
    ADD CONSTRAINT leaderboards_review_ledger CHECK (review = 'none' OR ledger_days >= 1),
    -- The board as the ledger names it: 4 bytes in each row instead of the id's text.
    ADD COLUMN ledger_key integer GENERATED ALWAYS AS IDENTITY UNIQUE;

-- One row per submission the ledger keeps: accepted ones (written by the statement that
-- applies them to `scores`), held ones and their decisions. Kept small (docs/data-model.md):
-- seven columns of fixed width in an order that needs no padding (72 bytes with the row
-- header, which holds the null bitmap), the board by its 4-byte ledger_key, and what most
-- rows lack in one nullable `details`: `status` (absent: accepted; else pending, approved,
-- rejected or voided), metadata, evidence_url, decided_at, reason, who decided.
CREATE SEQUENCE submission_id_seq AS bigint;
CREATE TABLE submissions (
    id             bigint PRIMARY KEY DEFAULT nextval('submission_id_seq'),
    -- The submitted value (not the stored score the operator made of it).
    score          bigint NOT NULL,
    submitted_at   timestamptz NOT NULL DEFAULT now(),
    player_id      uuid NOT NULL REFERENCES players (id) ON DELETE CASCADE,
    period_start   date NOT NULL,
    board_key      integer NOT NULL REFERENCES leaderboards (ledger_key) ON DELETE CASCADE,
    details        jsonb CHECK (details->>'status' IN ('pending', 'approved', 'rejected', 'voided'))
);
ALTER SEQUENCE submission_id_seq OWNED BY submissions.id;

-- A player's submissions of one board period: a void recomputes from them, a player's
-- list reads them, a player's deletion finds them. Without the id, the B-tree stores each
-- key once with a list of row pointers (deduplication): a few bytes per submission.
-- (A board's deletion reads the table through: board deletions are rare.)
CREATE INDEX submissions_entry ON submissions (player_id, board_key, period_start);
-- The review queue: only pending rows are in it, oldest first.
CREATE INDEX submissions_pending ON submissions (board_key, id)
    WHERE details->>'status' = 'pending';

-- What counts in a stored score but is not in the ledger: the operator applied to the
-- submissions the ledger dropped (older than ledger_days) and to those made before it
-- existed. A void recomputes the score from this and the remaining submissions.
ALTER TABLE scores ADD COLUMN unledgered bigint;
UPDATE scores SET unledgered = score;
