-- what:   the sync jobs of the patients (newest first, at most :limit); which are failed or stuck
--         is sync.jobs_failed's and sync.jobs_stuck's own SQL filtered by these ids (lib.patient.findings)
-- store:  core
-- params: :uids (text[]), :limit (int); sync_jobs_patient_firebase_uid_idx
SELECT j.id, j.kind, j.entity_id, j.patient_firebase_uid, j.source, j.target, j.status, j.attempts, j.last_error,
       j.created_at, j.updated_at
FROM sync_jobs j
WHERE j.patient_firebase_uid = ANY(CAST(:uids AS text[]))
ORDER BY j.created_at DESC, j.id DESC
LIMIT :limit
