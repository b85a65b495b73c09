-- what:   record one check's result within a run
-- store:  ops
-- params: :run_id, :check_id, :severity, :count, :sample (json text), :duration_ms, :error
INSERT INTO check_results (run_id, check_id, severity, count, sample, duration_ms, error)
VALUES (:run_id, :check_id, :severity, :count, CAST(:sample AS jsonb), :duration_ms, :error)
