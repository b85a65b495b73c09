-- what:   the simulated year: :runs watcher runs, one every :every_s seconds, the newest starting
--         at :until (oldest first, so ids grow with time; source 'watch', not generated, so the
--         pruning judges them), each with the results of one real run (:checks, :severities,
--         :counts, :samples (jsonb texts), :durations, :errors, in the same order) and its :stores
-- store:  ops (benchmark harness only)
-- params: :runs (int), :every_s (seconds), :until (timestamptz), :stores (jsonb text), :checks
--         (text[]), :severities (text[]), :counts (int[]), :samples (jsonb[]), :durations (real[]),
--         :errors (text[])
WITH runs AS (
    INSERT INTO check_runs (started_at, finished_at, source, generated, demo, stores)
    SELECT CAST(:until AS timestamptz) - make_interval(secs => CAST(:every_s AS double precision) * k),
           CAST(:until AS timestamptz) - make_interval(secs => CAST(:every_s AS double precision) * k)
               + interval '20 seconds',
           'watch', false, false, CAST(:stores AS jsonb)
    FROM generate_series(CAST(:runs AS int) - 1, 0, -1) AS k
    RETURNING id
)
INSERT INTO check_results (run_id, check_id, severity, count, sample, duration_ms, error)
SELECT r.id, x.check_id, x.severity, x.count, x.sample, x.duration_ms, x.error
FROM runs r
CROSS JOIN unnest(CAST(:checks AS text[]), CAST(:severities AS text[]), CAST(:counts AS integer[]),
                  CAST(:samples AS jsonb[]), CAST(:durations AS real[]), CAST(:errors AS text[]))
    AS x (check_id, severity, count, sample, duration_ms, error)
