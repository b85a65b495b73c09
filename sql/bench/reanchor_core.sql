-- what:   move the planted sync jobs (ids above :n) by the time since the data set's anchor, so
--         that the stuck ones stay stuck and the fresh one stays fresh (sync.jobs_stuck counts
--         against now())
-- store:  core (benchmark builder only)
-- params: :n (patients), :anchor (the data set's anchor), :now (the new anchor), both timestamptz
UPDATE sync_jobs
SET created_at = created_at + (CAST(:now AS timestamptz) - CAST(:anchor AS timestamptz)),
    updated_at = updated_at + (CAST(:now AS timestamptz) - CAST(:anchor AS timestamptz))
WHERE id > :n
