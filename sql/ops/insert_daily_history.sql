-- what:   a generated check history: one run a day over the :days days before :anchor (at its
--         time of day), each with one result per check (:checks, :severities and :counts, in the
--         same order), saved generated = true (the benchmark data set's steady history for
--         pulse.count_anomaly)
-- store:  ops
-- params: :anchor (timestamptz), :days (int), :source (text), :checks (text[]), :severities
--         (text[]), :counts (int[])
WITH runs AS (
    INSERT INTO check_runs (started_at, finished_at, source, generated)
    SELECT CAST(:anchor AS timestamptz) - make_interval(days => d),
           CAST(:anchor AS timestamptz) - make_interval(days => d) + interval '3 seconds',
           CAST(:source AS text), true
    FROM generate_series(1, CAST(:days AS int)) AS d
    RETURNING id
)
INSERT INTO check_results (run_id, check_id, severity, count)
SELECT r.id, x.check_id, x.severity, x.count
FROM runs r
CROSS JOIN unnest(CAST(:checks AS text[]), CAST(:severities AS text[]), CAST(:counts AS integer[]))
    AS x (check_id, severity, count)
