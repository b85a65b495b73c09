-- what:   move core sync_jobs' identity sequence past the ids the builder wrote explicitly
-- store:  core (benchmark builder only)
-- params: none
SELECT setval(pg_get_serial_sequence('sync_jobs', 'id'), GREATEST(max(id), 1)) FROM sync_jobs
