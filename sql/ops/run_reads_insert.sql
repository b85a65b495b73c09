-- what:   record what a run read of one snapshot part: incremental or full, rows, last full read
-- store:  ops
-- params: :run_id, :part, :mode, :rows_read, :last_full_at
INSERT INTO check_run_reads (run_id, part, mode, rows_read, last_full_at)
VALUES (:run_id, :part, :mode, :rows_read, :last_full_at)
