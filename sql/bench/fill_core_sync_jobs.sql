-- what:   core `sync_jobs`: one succeeded `user` job per patient i (id i), and for the planted
--         patients one more job (id :n + i). Plants by i % 100: job_failed (failed:
--         sync.jobs_failed), job_pending_stuck / job_running_stuck (pending 2 hours, running 40
--         minutes: sync.jobs_stuck), job_pending_fresh (pending, updated a minute before the
--         anchor: must not count for 14 minutes; lib.bench.data.reanchor moves it), job_lagged
--         (succeeded 3 minutes before the anchor, 25 minutes after its creation: pulse.sync_lag),
--         job_lag_near (succeeded 9 minutes after its creation) and job_lag_old (lagged, but
--         succeeded 2 hours before the anchor): must not count.
-- store:  core (benchmark builder only)
-- params: :seed, :n, :anchor (timestamptz), :r_job_failed, :r_job_pending_stuck,
--         :r_job_running_stuck, :r_job_pending_fresh, :r_job_lagged, :r_job_lag_near, :r_job_lag_old
INSERT INTO sync_jobs (id, kind, entity_id, patient_firebase_uid, source, target, status, attempts, last_error,
                       created_at, updated_at)
SELECT i, 'user', pg_temp.hb_id(:seed, 'user', i)::text, pg_temp.hb_uid(:seed, 'patient', i), 'firebase', 'core',
       'succeeded', 1, NULL,
       CAST(:anchor AS timestamptz) - make_interval(days => 30 + (i % 700)::int),
       CAST(:anchor AS timestamptz) - make_interval(days => 30 + (i % 700)::int) + interval '3 seconds'
FROM generate_series(1, CAST(:n AS bigint)) AS i
UNION ALL
SELECT CAST(:n AS bigint) + i, 'document', pg_temp.hb_id(:seed, 'doc', (i - 1) * 5 + 3)::text,
       pg_temp.hb_uid(:seed, 'patient', i), 'supabase', 'core', s.status,
       CASE WHEN s.status = 'failed' THEN 3 ELSE 1 END,
       CASE WHEN s.status = 'failed' THEN 'timeout waiting for OCR result after 120 s' END,
       CAST(:anchor AS timestamptz) - s.age - s.took,
       CAST(:anchor AS timestamptz) - s.age
FROM generate_series(1, CAST(:n AS bigint)) AS i
JOIN (VALUES (:r_job_failed, 'failed', interval '3 hours', interval '2 minutes'),
             (:r_job_pending_stuck, 'pending', interval '2 hours', interval '2 minutes'),
             (:r_job_running_stuck, 'running', interval '40 minutes', interval '2 minutes'),
             (:r_job_pending_fresh, 'pending', interval '1 minute', interval '2 minutes'),
             (:r_job_lagged, 'succeeded', interval '3 minutes', interval '25 minutes'),
             (:r_job_lag_near, 'succeeded', interval '3 minutes', interval '9 minutes'),
             (:r_job_lag_old, 'succeeded', interval '2 hours', interval '30 minutes'))
     AS s (r, status, age, took) ON s.r = i % 100
