-- id:         retry_failed_sync_jobs
-- title:      Retry failed sync jobs
-- what:       failed sync jobs go back to pending with attempts reset to 0 and updated_at = now(),
--             so that the backend's worker picks them up again; optionally only one kind. The
--             last_error stays for the record.
-- store:      core
-- resolves:   sync.jobs_failed
-- blocked_by: none
-- verify:     none (the post query below: no failed job of the chosen kind is left)
-- affects:    sync.jobs_stuck
-- risk:       low: a job that fails again comes back as failed. Jobs the worker does not pick up
--             within the stuck threshold show in sync.jobs_stuck. Row locks only.
-- params:     :kind (text or NULL) only failed jobs of this kind; NULL: every kind
-- option:     kind = user | profile | document | prescription

-- step: failed jobs back to pending, attempts reset
UPDATE public.sync_jobs
SET status = 'pending', attempts = 0, updated_at = now()
WHERE status = 'failed'
  AND (CAST(:kind AS text) IS NULL OR kind = CAST(:kind AS text))
RETURNING id::text AS key, kind, entity_id, last_error

-- post: failed jobs of that kind still failed
SELECT id::text AS key
FROM public.sync_jobs
WHERE status = 'failed'
  AND (CAST(:kind AS text) IS NULL OR kind = CAST(:kind AS text))
