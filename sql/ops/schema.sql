-- what:   the dashboard's own state: check runs and their per-check results (history for the
--         weekly review). Created on first use; safe to run again.
-- store:  ops
-- params: none

-- one process at a time creates the schema (CREATE ... IF NOT EXISTS alone races between processes)
SELECT pg_advisory_xact_lock(hashtext('healbridge-ops ops schema'));
CREATE TABLE IF NOT EXISTS check_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    source      text NOT NULL DEFAULT 'cli',
    generated   boolean NOT NULL DEFAULT false,
    demo        boolean NOT NULL DEFAULT false,
    stores      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE TABLE IF NOT EXISTS check_results (
    run_id      bigint NOT NULL REFERENCES check_runs (id) ON DELETE CASCADE,
    check_id    text NOT NULL,
    severity    text NOT NULL,
    count       integer,
    sample      jsonb NOT NULL DEFAULT '[]'::jsonb,
    duration_ms real,
    error       text,
    PRIMARY KEY (run_id, check_id)
);
CREATE INDEX IF NOT EXISTS check_results_check_id_idx ON check_results (check_id, run_id);
CREATE INDEX IF NOT EXISTS check_runs_started_at_idx ON check_runs (started_at);
-- The weekly review's acknowledgements: a finding (finding_key) or a whole check (finding_key
-- null) someone has seen, with a comment, until expires_at. Never deleted: ending one sets ended_at.
CREATE TABLE IF NOT EXISTS acknowledgements (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    check_id    text NOT NULL,
    finding_key text,
    comment     text NOT NULL CHECK (btrim(comment) <> ''),
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL DEFAULT '',
    ended_at    timestamptz,
    ended_by    text
);
CREATE INDEX IF NOT EXISTS acknowledgements_check_id_idx ON acknowledgements (check_id, expires_at);
-- The fix runner's audit log (lib.fixes): every plan and apply attempt, refusals included: who,
-- in which role, when, which fix and reviewed checksum, what happened, rows, reason, duration.
CREATE TABLE IF NOT EXISTS fix_audit (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    who          text NOT NULL,
    role         text NOT NULL,
    fix          text NOT NULL,
    checksum     text,
    action       text NOT NULL,
    stores       text,
    rows_touched integer,
    outcome      text NOT NULL,
    reason       text,
    duration_ms  real,
    detail       jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS fix_audit_fix_idx ON fix_audit (fix, id);
-- APPEND-ONLY, one row per event: an attempt's start (attempt NULL, outcome 'started'), then its
-- end (attempt = the start's id: planned | applied | nothing to do | refused: … | failed: … |
-- abandoned). A start row with no end whose process is gone (it no longer holds the attempt's
-- session advisory lock) is abandoned. Rows of the former schema (start and end in one row) are
-- kept as they are: attempt NULL and their final outcome. Triggers refuse UPDATE, DELETE, TRUNCATE.
ALTER TABLE fix_audit ADD COLUMN IF NOT EXISTS attempt bigint REFERENCES fix_audit (id);
CREATE UNIQUE INDEX IF NOT EXISTS fix_audit_one_end_idx ON fix_audit (attempt) WHERE attempt IS NOT NULL;
CREATE INDEX IF NOT EXISTS fix_audit_open_idx ON fix_audit (id) WHERE attempt IS NULL AND outcome = 'started';
CREATE OR REPLACE FUNCTION fix_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = 'fix_audit is append-only: ' || TG_OP || ' is refused';
END;
$$;
CREATE OR REPLACE TRIGGER fix_audit_no_update_delete BEFORE UPDATE OR DELETE ON fix_audit
    FOR EACH ROW EXECUTE FUNCTION fix_audit_append_only();
CREATE OR REPLACE TRIGGER fix_audit_no_truncate BEFORE TRUNCATE ON fix_audit
    FOR EACH STATEMENT EXECUTE FUNCTION fix_audit_append_only();
-- The access audit log (lib.audit): sign-ins, patient lookups, unmasks, exports, fix plans and
-- applies. APPEND-ONLY: no code path updates or deletes it, and triggers refuse UPDATE, DELETE
-- and TRUNCATE (PostgreSQL 14+ for CREATE OR REPLACE TRIGGER).
CREATE TABLE IF NOT EXISTS audit_log (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    who     text NOT NULL,
    role    text NOT NULL,
    action  text NOT NULL,
    target  text,
    detail  jsonb NOT NULL DEFAULT '{}'::jsonb,
    reason  text
);
CREATE INDEX IF NOT EXISTS audit_log_at_idx ON audit_log (at);
CREATE INDEX IF NOT EXISTS audit_log_action_idx ON audit_log (action, at);
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = 'audit_log is append-only: ' || TG_OP || ' is refused';
END;
$$;
CREATE OR REPLACE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE OR REPLACE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
-- Signed-out sign-in sessions (lib.auth.revoke_session). Streamlit's sign-in cookie lives 30 days
-- and cannot be recalled from the browser, so "Sign out" writes the session here and gate() refuses
-- it from then on, whatever copy of the cookie comes back. session_id is lib.auth.session_id (a
-- digest of the ID token's iss, sub, iat and nonce), never the token. APPEND-ONLY like audit_log.
CREATE TABLE IF NOT EXISTS session_revocations (
    session_id   text PRIMARY KEY,
    who          text NOT NULL,
    signed_in_at timestamptz,
    revoked_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE OR REPLACE FUNCTION session_revocations_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = 'session_revocations is append-only: ' || TG_OP || ' is refused';
END;
$$;
CREATE OR REPLACE TRIGGER session_revocations_no_update_delete BEFORE UPDATE OR DELETE ON session_revocations
    FOR EACH ROW EXECUTE FUNCTION session_revocations_append_only();
CREATE OR REPLACE TRIGGER session_revocations_no_truncate BEFORE TRUNCATE ON session_revocations
    FOR EACH STATEMENT EXECUTE FUNCTION session_revocations_append_only();
-- The watcher's alerts (lib.alerts, lib.watch). alert_state: what the watcher last saw of each
-- check ('check:<id>') and store ('store:<name>'): its count, since when it is open, the count last
-- alerted (0: the open was never alerted), how many runs in a row a store was down and whether that
-- was alerted. One row per subject, updated in the transaction that saves the run.
CREATE TABLE IF NOT EXISTS alert_state (
    subject        text PRIMARY KEY,
    count          integer NOT NULL DEFAULT 0,
    opened_at      timestamptz,
    notified_count integer NOT NULL DEFAULT 0,
    down_runs      integer NOT NULL DEFAULT 0,
    down_since     timestamptz,
    alerted        boolean NOT NULL DEFAULT false,
    run_id         bigint,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
-- The outbox: one message for one channel, written in the transaction that saves the run and its
-- decisions, delivered after commit. channel is scheme://host only; channel_key a digest of the
-- URL (the URL itself carries tokens and is never stored: the sender finds it in the configuration).
-- status: pending (to send; next_attempt_at), sent, logged (no channel configured: the dashboard's
-- own alert log), orphaned (its channel is no longer configured). Never deleted by the pruning.
CREATE TABLE IF NOT EXISTS alert_outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    run_id          bigint,
    kind            text NOT NULL,
    channel         text NOT NULL,
    channel_key     text NOT NULL,
    severity        text NOT NULL,
    title           text NOT NULL,
    body            text NOT NULL,
    notify_type     text NOT NULL DEFAULT 'info',
    dedup_key       text,
    checks          jsonb NOT NULL DEFAULT '[]'::jsonb,
    changes         jsonb NOT NULL DEFAULT '[]'::jsonb,
    status          text NOT NULL DEFAULT 'pending',
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    sent_at         timestamptz,
    last_error      text
);
CREATE INDEX IF NOT EXISTS alert_outbox_pending_idx ON alert_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS alert_outbox_created_idx ON alert_outbox (created_at);
-- Every delivery attempt of an outbox message: channel (scheme://host), when, ok or the error
-- (redacted). APPEND-ONLY like audit_log.
CREATE TABLE IF NOT EXISTS alert_attempts (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    outbox_id bigint NOT NULL REFERENCES alert_outbox (id),
    at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    channel   text NOT NULL,
    ok        boolean NOT NULL,
    error     text
);
CREATE INDEX IF NOT EXISTS alert_attempts_outbox_idx ON alert_attempts (outbox_id, id);
CREATE OR REPLACE FUNCTION alert_attempts_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = 'alert_attempts is append-only: ' || TG_OP || ' is refused';
END;
$$;
CREATE OR REPLACE TRIGGER alert_attempts_no_update_delete BEFORE UPDATE OR DELETE ON alert_attempts
    FOR EACH ROW EXECUTE FUNCTION alert_attempts_append_only();
CREATE OR REPLACE TRIGGER alert_attempts_no_truncate BEFORE TRUNCATE ON alert_attempts
    FOR EACH STATEMENT EXECUTE FUNCTION alert_attempts_append_only();
-- Maintenance windows: while one is active (starts_at <= now < ends_at, not ended) no alert is
-- sent (the changes are still recorded). Never deleted: ending one early sets ended_at.
CREATE TABLE IF NOT EXISTS maintenance_windows (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL CHECK (ends_at > starts_at),
    reason     text NOT NULL CHECK (btrim(reason) <> ''),
    created_by text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    ended_at   timestamptz,
    ended_by   text
);
-- The watcher's heartbeat: one row per watcher name, written each time it works.
CREATE TABLE IF NOT EXISTS watch_heartbeat (
    watcher     text PRIMARY KEY,
    host        text NOT NULL,
    pid         integer NOT NULL,
    started_at  timestamptz NOT NULL,
    last_run_at timestamptz,
    last_run_id bigint,
    next_run_at timestamptz,
    interval_s  real NOT NULL,
    last_prune_at  timestamptz,
    last_digest_on date
);
-- Every finding key of the checks an incremental run re-reads by key (issue 16): the uids those
-- findings name are looked up again in Firebase. Kept for the newest runs only (finding_keys_prune).
-- `complete` is false when the check had more findings than the run kept keys.
CREATE TABLE IF NOT EXISTS check_finding_keys (
    run_id   bigint NOT NULL REFERENCES check_runs (id) ON DELETE CASCADE,
    check_id text NOT NULL,
    complete boolean NOT NULL,
    keys     text[] NOT NULL,
    PRIMARY KEY (run_id, check_id)
);
-- What each saved run read of each snapshot part (issue 16): incremental or full, the rows read,
-- and when that part was last read in full.
CREATE TABLE IF NOT EXISTS check_run_reads (
    run_id       bigint NOT NULL REFERENCES check_runs (id) ON DELETE CASCADE,
    part         text NOT NULL,
    mode         text NOT NULL,
    rows_read    bigint,
    last_full_at timestamptz,
    PRIMARY KEY (run_id, part)
);
