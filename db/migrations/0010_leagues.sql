-- Seasons and leagues (docs/leagues.md): each season a player competes in a cohort of
-- their tier; when the season closes the top of each cohort moves up a tier and the
-- bottom down. Postgres is the record (placements, scores, results); Redis indexes each
-- open cohort and is rebuilt from `league_members` when it loses one.

CREATE TABLE leagues (
    id                  text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    name                text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 128),
    schedule            text NOT NULL CHECK (schedule IN ('daily', 'weekly', 'monthly')),
    sort_order          text NOT NULL CHECK (sort_order IN ('desc', 'asc')),
    operator            text NOT NULL CHECK (operator IN ('best', 'latest', 'sum')),
    cohort_size         integer NOT NULL CHECK (cohort_size BETWEEN 2 AND 1000),
    -- [{"name", "promote", "demote"}, …], lowest tier first; tier n is the n-th (from 1).
    tiers               jsonb NOT NULL CHECK (jsonb_typeof(tiers) = 'array'
                                              AND jsonb_array_length(tiers) BETWEEN 1 AND 20),
    rate_limit          integer NOT NULL CHECK (rate_limit >= 1),
    rate_window_seconds integer NOT NULL CHECK (rate_window_seconds >= 1),
    -- The current season: the one players join. It is open while season_ends_at is ahead
    -- and no close holds the league's lock (league_submit below).
    season              integer NOT NULL DEFAULT 1 CHECK (season >= 1),
    season_started_at   timestamptz NOT NULL,
    season_ends_at      timestamptz NOT NULL,
    created_at          timestamptz NOT NULL,
    CONSTRAINT leagues_season_window CHECK (season_started_at < season_ends_at)
);

-- The closer's question every few seconds: which seasons are due?
CREATE INDEX leagues_season_ends ON leagues (season_ends_at);

-- How many players joined each tier of a season: cohort n of a tier holds its joiners
-- (n-1)*cohort_size+1 … n*cohort_size, so cohorts fill in order of joining and only the
-- last one of a tier is not full. A first submission locks its tier's row (one per
-- tier and season, made when the season starts).
CREATE TABLE league_tiers (
    league_id text NOT NULL REFERENCES leagues (id) ON DELETE CASCADE,
    season    integer NOT NULL,
    tier      smallint NOT NULL CHECK (tier BETWEEN 1 AND 20),
    joined    integer NOT NULL DEFAULT 0 CHECK (joined >= 0),
    PRIMARY KEY (league_id, season, tier)
);

-- Orders every change of a league score, as score_reached_seq does for boards: among equal
-- scores the smaller reached_seq reached it first and ranks higher.
CREATE SEQUENCE league_reached_seq AS bigint;

-- A player's place and score in one season: placed by their first accepted submission.
CREATE TABLE league_members (
    league_id   text NOT NULL REFERENCES leagues (id) ON DELETE CASCADE,
    season      integer NOT NULL,
    player_id   uuid NOT NULL REFERENCES players (id) ON DELETE CASCADE,
    tier        smallint NOT NULL CHECK (tier BETWEEN 1 AND 20),
    cohort      integer NOT NULL CHECK (cohort >= 1),
    score       bigint NOT NULL CHECK (score BETWEEN -9007199254740991 AND 9007199254740991),
    reached_seq bigint NOT NULL,
    joined_at   timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (league_id, season, player_id)
);

-- A cohort's members (its index is rebuilt from these). Tier and cohort lead on purpose:
-- an index that began with (league_id, season) would compete with the primary key for
-- a player's lookup, and while a new season has no statistics yet the planner may pick
-- it and filter the whole season for one player (measured: 2 ms per row at 10,000).
CREATE INDEX league_members_cohort ON league_members (tier, cohort, league_id, season);
-- A deleted player leaves every cohort index (found with the player's rows).
CREATE INDEX league_members_player ON league_members (player_id);

-- Each player's outcome of each closed season, written by the close in one transaction
-- with the season's end: final rank in the cohort, zone, and the tier it gave them.
-- No foreign keys, on purpose: their checks were half the time of closing a season of a
-- million players (15 of 30 s: a key-share lock per row on `players` and `leagues`).
-- Deleting a league or a player deletes their results explicitly instead, in the same
-- transaction (leagues/repository.py). The key leads with the player: a player's
-- history, their next tier and their deletion all look them up.
CREATE TABLE league_results (
    league_id text NOT NULL,
    player_id uuid NOT NULL,
    season    integer NOT NULL,
    tier      smallint NOT NULL,
    cohort    integer NOT NULL,
    rank      integer NOT NULL,
    score     bigint NOT NULL,
    zone      text NOT NULL CHECK (zone IN ('promote', 'stay', 'demote')),
    new_tier  smallint NOT NULL,
    PRIMARY KEY (player_id, league_id, season)
);

-- A closed cohort, best first; and the order in which season_ended events go out.
CREATE INDEX league_results_cohort ON league_results (league_id, season, tier, cohort, rank);

-- Every close of a season: recorded with the results; what follows them (the events, the
-- Redis clean-up) is done in resumable steps, and `finished_at` says all of it is.
CREATE TABLE league_closes (
    league_id   text NOT NULL REFERENCES leagues (id) ON DELETE CASCADE,
    season      integer NOT NULL,
    closed_at   timestamptz NOT NULL,
    early       boolean NOT NULL,
    players     integer NOT NULL,
    -- season_ended events: batches published so far, and the (tier, cohort, rank) of the
    -- last result announced, where the next batch starts.
    announced   integer NOT NULL DEFAULT 0,
    after_tier  integer NOT NULL DEFAULT 0,
    after_cohort integer NOT NULL DEFAULT 0,
    after_rank  integer NOT NULL DEFAULT 0,
    finished_at timestamptz,
    PRIMARY KEY (league_id, season)
);

CREATE INDEX league_closes_unfinished ON league_closes (league_id) WHERE finished_at IS NULL;

-- Submissions to one league, many players at once (the service batches them; see
-- leagues/writer.py). In one transaction:
-- * a shared transaction-level advisory lock on the league, taken without waiting: a
--   season's close holds it exclusively, and a submission that meets it is refused
--   ('closed': 409, try again) instead of queueing with a pooled connection; so no
--   submission commits into a season whose results are being written;
-- * the season read after that lock (a close that committed before it has moved on);
-- * first submissions place the player: their tier is the one their latest result gave
--   them (the lowest for a newcomer); the tiers' counter rows are locked first, in tier
--   order, then the member rows in player order, so two batches never deadlock, and the
--   counter makes placement exact: cohort = (joined - 1) / cohort_size + 1;
-- * the operator applied to the stored score; reached_seq drawn in arrival order, moved
--   only when the score changes (and then above the stored one);
-- * an audit row for the admin's and server keys' submissions.
-- Statuses: ok, closed, no_league, no_player, banned, range (a sum out of ±(2^53 - 1)).
CREATE FUNCTION league_submit(
    p_league text,
    p_now timestamptz,
    p_players uuid[],
    p_scores bigint[],
    p_actors text[],
    p_request_ids text[]
) RETURNS TABLE (
    o_n integer,
    o_status text,
    o_season integer,
    o_ends_at timestamptz,
    o_tier smallint,
    o_cohort integer,
    o_score bigint,
    o_seq bigint,
    o_previous bigint,
    o_inserted boolean
) LANGUAGE plpgsql AS $$
DECLARE
    v_league leagues%ROWTYPE;
    v_count integer := coalesce(cardinality(p_players), 0);
    v_open boolean;
    v_seqs bigint[];
    v_status text[];
    v_new_tier smallint[];
    v_tiers smallint;
    v_banned boolean;
    v_i integer;
    v_member league_members%ROWTYPE;
    v_score bigint;
    v_seq bigint;
    v_joined integer;
    v_cohort integer;
BEGIN
    -- 0x4C475545 ("LGUE"): the class of the leagues' advisory locks.
    v_open := pg_try_advisory_xact_lock_shared(1279743301, hashtext(p_league));
    SELECT * INTO v_league FROM leagues l WHERE l.id = p_league;
    IF NOT FOUND THEN
        RETURN QUERY SELECT g, 'no_league', NULL::integer, NULL::timestamptz, NULL::smallint,
                            NULL::integer, NULL::bigint, NULL::bigint, NULL::bigint, NULL::boolean
                       FROM generate_series(1, v_count) g;
        RETURN;
    END IF;
    IF NOT v_open OR v_league.season_ends_at <= p_now THEN
        RETURN QUERY SELECT g, 'closed', v_league.season, v_league.season_ends_at,
                            NULL::smallint, NULL::integer, NULL::bigint, NULL::bigint,
                            NULL::bigint, NULL::boolean
                       FROM generate_series(1, v_count) g;
        RETURN;
    END IF;
    v_tiers := jsonb_array_length(v_league.tiers);
    v_seqs := ARRAY(SELECT nextval('league_reached_seq') FROM generate_series(1, v_count));
    v_status := array_fill(NULL::text, ARRAY[v_count]);
    v_new_tier := array_fill(NULL::smallint, ARRAY[v_count]);
    -- Who may play, and who joins now (and into which tier): no lock taken yet.
    FOR v_i IN 1 .. v_count LOOP
        SELECT p.banned_at IS NOT NULL INTO v_banned FROM players p WHERE p.id = p_players[v_i];
        IF NOT FOUND THEN
            v_status[v_i] := 'no_player';
        ELSIF v_banned THEN
            v_status[v_i] := 'banned';
        ELSIF NOT EXISTS (SELECT 1 FROM league_members m
                           WHERE m.league_id = p_league AND m.season = v_league.season
                             AND m.player_id = p_players[v_i]) THEN
            v_new_tier[v_i] := least(greatest(coalesce(
                (SELECT r.new_tier FROM league_results r
                  WHERE r.league_id = p_league AND r.player_id = p_players[v_i]
                  ORDER BY r.season DESC LIMIT 1), 1), 1), v_tiers);
        END IF;
    END LOOP;
    PERFORM 1 FROM league_tiers t
      WHERE t.league_id = p_league AND t.season = v_league.season
        AND t.tier = ANY (v_new_tier)
      ORDER BY t.tier
        FOR UPDATE;
    FOR v_i IN SELECT g FROM generate_series(1, v_count) g ORDER BY p_players[g], g LOOP
        IF v_status[v_i] IS NOT NULL THEN
            CONTINUE;
        END IF;
        SELECT * INTO v_member FROM league_members m
         WHERE m.league_id = p_league AND m.season = v_league.season
           AND m.player_id = p_players[v_i]
           FOR UPDATE;
        IF FOUND THEN
            v_score := CASE v_league.operator
                WHEN 'latest' THEN p_scores[v_i]
                WHEN 'sum' THEN v_member.score + p_scores[v_i]
                WHEN 'best' THEN CASE v_league.sort_order
                    WHEN 'desc' THEN greatest(v_member.score, p_scores[v_i])
                    ELSE least(v_member.score, p_scores[v_i]) END
            END;
            IF abs(v_score) > 9007199254740991 THEN
                v_status[v_i] := 'range';
                CONTINUE;
            END IF;
            v_seq := v_member.reached_seq;
            IF v_score <> v_member.score THEN
                -- A number drawn before a concurrent change of this row took its own would
                -- be older than the stored one: the index would refuse it as stale.
                v_seq := CASE WHEN v_seqs[v_i] > v_member.reached_seq THEN v_seqs[v_i]
                              ELSE nextval('league_reached_seq') END;
                UPDATE league_members m
                   SET score = v_score, reached_seq = v_seq, updated_at = now()
                 WHERE m.league_id = p_league AND m.season = v_league.season
                   AND m.player_id = p_players[v_i];
            END IF;
            o_tier := v_member.tier;
            o_cohort := v_member.cohort;
            o_previous := v_member.score;
            o_inserted := false;
        ELSIF v_new_tier[v_i] IS NULL THEN
            -- Seen as a member a moment ago, gone now: deleted meanwhile.
            v_status[v_i] := 'no_player';
            CONTINUE;
        ELSE
            UPDATE league_tiers t SET joined = t.joined + 1
             WHERE t.league_id = p_league AND t.season = v_league.season
               AND t.tier = v_new_tier[v_i]
            RETURNING t.joined INTO v_joined;
            v_cohort := (v_joined - 1) / v_league.cohort_size + 1;
            v_score := p_scores[v_i];
            v_seq := v_seqs[v_i];
            INSERT INTO league_members (league_id, season, player_id, tier, cohort, score,
                                        reached_seq)
            VALUES (p_league, v_league.season, p_players[v_i], v_new_tier[v_i], v_cohort,
                    v_score, v_seq);
            o_tier := v_new_tier[v_i];
            o_cohort := v_cohort;
            o_previous := NULL;
            o_inserted := true;
        END IF;
        IF p_actors[v_i] IS NOT NULL THEN
            INSERT INTO audit_log (actor, action, target, request_id, details)
            VALUES (p_actors[v_i], 'score.submit',
                    'league:' || p_league || '/player:' || p_players[v_i], p_request_ids[v_i],
                    jsonb_build_object('submitted', p_scores[v_i], 'score', v_score,
                                       'season', v_league.season));
        END IF;
        o_n := v_i;
        o_status := 'ok';
        o_season := v_league.season;
        o_ends_at := v_league.season_ends_at;
        o_score := v_score;
        o_seq := v_seq;
        RETURN NEXT;
    END LOOP;
    RETURN QUERY SELECT g, v_status[g], v_league.season, v_league.season_ends_at,
                        NULL::smallint, NULL::integer, NULL::bigint, NULL::bigint,
                        NULL::bigint, NULL::boolean
                   FROM generate_series(1, v_count) g
                  WHERE v_status[g] IS NOT NULL;
END;
$$;
