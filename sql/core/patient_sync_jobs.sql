-- what:   the sync jobs of the patients (newest first, at most :limit), each flagged `stuck` when it
--         is pending or running and untouched for :minutes, as sync.jobs_stuck counts it
-- store:  core
-- params: :uids (text[]), :minutes (int), :limit (int); sync_jobs_patient_firebase_uid_idx
SELECT j.id, j.kind, j.entity_id, j.patient_firebase_uid, j.source, j.target, j.status, j.attempts, j.last_error,
       j.created_at, j.updated_at,
       (j.status IN ('pending', 'running') AND j.updated_at < now() - make_interval(mins => :minutes)) AS stuck
FROM sync_jobs j
WHERE j.patient_firebase_uid = ANY(CAST(:uids AS text[]))
ORDER BY j.created_at DESC, j.id DESC
LIMIT :limit
