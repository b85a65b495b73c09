-- what:   Supabase `public.patient_doctor_connections`: one per patient i with doctor
--         i % :doctors + 1, active, its own token, expiring in a year. Plants by i % 100 on that
--         connection: tok_expired (expired 10 days ago, still active: token.expired_active),
--         tok_soon (expires in 12 hours: token.expiring_soon), tok_used_expired (expired,
--         inactive, used by its doctor: must not count), tok_three_days (expires in 3 days: must
--         not count). More connections: tok_dup / tok_dup3 (one / two more, with the next doctors,
--         sharing the token of i, each an hour newer: dup.access_tokens), tok_unused_active (no
--         doctor, active, expired: token.expired_active and token.unused_expired),
--         tok_unused_inactive (no doctor, inactive, expired: token.unused_expired), ghost_conn (a
--         patient UID Firebase does not know: orphan.connections_patient). Every (patient, doctor)
--         pair stays unique: the demo schema's pair UNIQUE forbids dup.active_connections.
-- store:  supabase (benchmark builder only)
-- params: :seed, :n, :doctors, :anchor (timestamptz), :r_tok_expired, :r_tok_soon,
--         :r_tok_used_expired, :r_tok_three_days, :r_tok_dup, :r_tok_dup3, :r_tok_unused_active,
--         :r_tok_unused_inactive, :r_ghost_conn
WITH conns (i, kind, k, patient_uid, doctor, token, expires_in, active) AS (
    SELECT i, 'conn', 0, pg_temp.hb_uid(:seed, 'patient', i), i % :doctors + 1,
           'tok_' || md5(CAST(:seed AS text) || '/token/' || i::text),
           CASE i % 100 WHEN :r_tok_expired THEN interval '-10 days'
                        WHEN :r_tok_soon THEN interval '12 hours'
                        WHEN :r_tok_used_expired THEN interval '-20 days'
                        WHEN :r_tok_three_days THEN interval '3 days'
                        ELSE interval '365 days' END,
           i % 100 <> :r_tok_used_expired
    FROM generate_series(1, CAST(:n AS bigint)) AS i
    UNION ALL
    SELECT i, 'conn' || x.k::text, x.k,
           CASE WHEN x.ghost THEN pg_temp.hb_uid(:seed, 'gconn', i) ELSE pg_temp.hb_uid(:seed, 'patient', i) END,
           CASE WHEN x.doctor THEN (i + x.k) % :doctors + 1 END,
           CASE WHEN x.shared THEN 'tok_' || md5(CAST(:seed AS text) || '/token/' || i::text)
                ELSE 'tok_' || md5(CAST(:seed AS text) || '/token/' || i::text || '/' || x.k::text) END,
           x.expires_in, x.active
    FROM generate_series(1, CAST(:n AS bigint)) AS i
    JOIN (VALUES (:r_tok_dup, 1, true, true, false, interval '365 days', true),
                 (:r_tok_dup3, 1, true, true, false, interval '365 days', true),
                 (:r_tok_dup3, 2, true, true, false, interval '365 days', true),
                 (:r_tok_unused_active, 1, false, false, false, interval '-5 days', true),
                 (:r_tok_unused_inactive, 1, false, false, false, interval '-5 days', false),
                 (:r_ghost_conn, 1, true, false, true, interval '365 days', true))
         AS x (r, k, doctor, shared, ghost, expires_in, active) ON x.r = i % 100
)
INSERT INTO public.patient_doctor_connections (id, patient_firebase_uid, doctor_firebase_uid, access_token,
                                               token_expires_at, is_active, created_at, used_at)
SELECT pg_temp.hb_id(:seed, c.kind, c.i), c.patient_uid,
       CASE WHEN c.doctor IS NOT NULL THEN pg_temp.hb_uid(:seed, 'doctor', c.doctor) END,
       c.token, CAST(:anchor AS timestamptz) + c.expires_in, c.active,
       CAST(:anchor AS timestamptz) - make_interval(days => 40 + (c.i % 300)::int) + make_interval(hours => c.k),
       CASE WHEN c.doctor IS NOT NULL
            THEN CAST(:anchor AS timestamptz) - make_interval(days => 40 + (c.i % 300)::int)
                 + make_interval(hours => c.k + 2) END
FROM conns AS c
