-- what:   the watcher benchmark's change of the data between intervals, on two old succeeded sync
--         jobs: :failed_job becomes failed (sync.jobs_failed one more) when :phase is 0, else
--         succeeded; :stuck_job becomes pending (sync.jobs_stuck one more: it was last updated
--         weeks ago) when :phase is 1, else succeeded; :phase 2 puts both back to succeeded
-- store:  core (benchmark harness only)
-- params: :failed_job, :stuck_job (sync job ids), :phase (0, 1 or 2)
UPDATE sync_jobs
SET status = CASE WHEN id = :failed_job AND :phase = 0 THEN 'failed'
                  WHEN id = :stuck_job AND :phase = 1 THEN 'pending'
                  ELSE 'succeeded' END
WHERE id IN (:failed_job, :stuck_job)
