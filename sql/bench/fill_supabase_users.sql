-- what:   Supabase `auth.users`: one per patient i, metadata firebase_uid = the patient's UID and
--         postgres_id = the core users.id. Plants by i % 100: sb_user_none (no Supabase user) and
--         sb_user_deleted (deleted: both sync.patient_missing_in_supabase); sb_wrong_postgres_id
--         (sync.supabase_user_unknown); sb_email (email changed: drift); phone_format (the phone
--         written +1 AAA-EEE-LLLL and the email upper-cased and padded: must not count). More
--         users: sb_ghost (a live user whose UID core does not know: sync.supabase_user_unknown),
--         sb_ghost_deleted (the same, deleted: must not count), sb_dup (a second live user of the
--         patient, three days newer: dup.supabase_users_firebase_uid), sb_dup_deleted (a second,
--         deleted user: must not count).
-- store:  supabase (benchmark builder only)
-- params: :seed, :n, :anchor (timestamptz), :r_sb_user_none, :r_sb_user_deleted,
--         :r_sb_wrong_postgres_id, :r_sb_email, :r_phone_format, :r_sb_ghost, :r_sb_ghost_deleted,
--         :r_sb_dup, :r_sb_dup_deleted
WITH people (i, kind, uid, postgres_id, email, phone, created_at, deleted) AS (
    SELECT i, 'sbuser', pg_temp.hb_uid(:seed, 'patient', i),
           CASE i % 100 WHEN :r_sb_wrong_postgres_id THEN pg_temp.hb_id(:seed, 'nowhere-pg', i)
                        ELSE pg_temp.hb_id(:seed, 'user', i) END::text,
           CASE i % 100 WHEN :r_sb_email THEN 'other.' || pg_temp.hb_email(i)
                        WHEN :r_phone_format THEN '  ' || upper(pg_temp.hb_email(i)) || ' '
                        ELSE pg_temp.hb_email(i) END,
           CASE i % 100 WHEN :r_phone_format THEN
                    '+1 ' || pg_temp.hb_area(i) || '-' || substr(pg_temp.hb_phone(pg_temp.hb_area(i), i), 6, 3)
                    || '-' || substr(pg_temp.hb_phone(pg_temp.hb_area(i), i), 9, 4)
                ELSE pg_temp.hb_phone(pg_temp.hb_area(i), i) END,
           CAST(:anchor AS timestamptz) - make_interval(days => 30 + (i % 700)::int, secs => (i % 86400)::int)
               + interval '5 minutes',
           i % 100 = :r_sb_user_deleted
    FROM generate_series(1, CAST(:n AS bigint)) AS i
    WHERE i % 100 <> :r_sb_user_none
    UNION ALL
    SELECT i, 'sbghost', pg_temp.hb_uid(:seed, 'gsb', i), pg_temp.hb_id(:seed, 'nowhere-pg', i)::text,
           'ghost.sb' || i::text || '@bench.example.com', NULL,
           CAST(:anchor AS timestamptz) - interval '10 days', i % 100 = :r_sb_ghost_deleted
    FROM generate_series(1, CAST(:n AS bigint)) AS i
    WHERE i % 100 IN (:r_sb_ghost, :r_sb_ghost_deleted)
    UNION ALL
    SELECT i, 'sbdup', pg_temp.hb_uid(:seed, 'patient', i), pg_temp.hb_id(:seed, 'user', i)::text,
           pg_temp.hb_email(i), pg_temp.hb_phone(pg_temp.hb_area(i), i),
           CAST(:anchor AS timestamptz) - make_interval(days => 27 + (i % 700)::int, secs => (i % 86400)::int),
           i % 100 = :r_sb_dup_deleted
    FROM generate_series(1, CAST(:n AS bigint)) AS i
    WHERE i % 100 IN (:r_sb_dup, :r_sb_dup_deleted)
)
INSERT INTO auth.users (id, email, phone, raw_user_meta_data, raw_app_meta_data, created_at, updated_at,
                        last_sign_in_at, deleted_at, banned_until, is_anonymous)
SELECT pg_temp.hb_id(:seed, p.kind, p.i), p.email, p.phone,
       jsonb_build_object('postgres_id', p.postgres_id, 'firebase_uid', p.uid, 'name', 'Patient ' || p.i::text,
                          'role', 'PATIENT'),
       '{"provider": "email", "providers": ["email"]}'::jsonb,
       p.created_at, p.created_at, CAST(:anchor AS timestamptz) - make_interval(days => (p.i % 20)::int),
       CASE WHEN p.deleted THEN CAST(:anchor AS timestamptz) - interval '2 days' END, NULL, false
FROM people AS p
