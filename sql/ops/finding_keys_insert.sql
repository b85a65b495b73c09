-- what:   record every kept key of one check's findings within a run (for the next incremental run)
-- store:  ops
-- params: :run_id, :check_id, :complete, :keys (text[])
INSERT INTO check_finding_keys (run_id, check_id, complete, keys)
VALUES (:run_id, :check_id, :complete, CAST(:keys AS text[]))
