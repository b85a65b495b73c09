-- what:   the dashboard's own state: check runs and their per-check results (history for the
--         weekly review). Created on first use; safe to run again.
-- store:  ops
-- params: none
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
