-- what:   core `users`: one PATIENT per patient i (1..:n), the doctors' users (1..:doctors), and
--         the planted surplus registrations. Plants by i % 100 (lib/bench/data.py, PLANTS):
--         core_email (email changed: drift), core_email_case (the same email upper-cased and
--         padded: must not count), phone_format (the same phone in national format: must not
--         count); dup_email / dup_email3 (one / two more users with the email of i written
--         otherwise), dup_phone (one more user with the phone of i in national format).
-- store:  core (benchmark builder only)
-- params: :seed, :n, :doctors, :anchor (timestamptz), :r_core_email, :r_core_email_case,
--         :r_phone_format, :r_dup_email, :r_dup_email3, :r_dup_phone
INSERT INTO users (id, firebase_uid, email, phone, role, verified, created_at, updated_at)
SELECT pg_temp.hb_id(:seed, 'user', i),
       pg_temp.hb_uid(:seed, 'patient', i),
       CASE i % 100
           WHEN :r_core_email THEN 'new.' || pg_temp.hb_email(i)
           WHEN :r_core_email_case THEN '  ' || upper(pg_temp.hb_email(i)) || ' '
           ELSE pg_temp.hb_email(i)
       END,
       CASE i % 100
           WHEN :r_phone_format THEN pg_temp.hb_national(pg_temp.hb_phone(pg_temp.hb_area(i), i))
           ELSE pg_temp.hb_phone(pg_temp.hb_area(i), i)
       END,
       'PATIENT', true,
       CAST(:anchor AS timestamptz) - make_interval(days => 30 + (i % 700)::int, secs => (i % 86400)::int),
       CAST(:anchor AS timestamptz) - make_interval(days => 29 + (i % 700)::int)
FROM generate_series(1, CAST(:n AS bigint)) AS i
UNION ALL
SELECT pg_temp.hb_id(:seed, 'doctoruser', d),
       pg_temp.hb_uid(:seed, 'doctor', d),
       'doctor' || d::text || '@bench.example.com',
       pg_temp.hb_phone('646', d),
       'DOCTOR', true,
       CAST(:anchor AS timestamptz) - interval '800 days',
       CAST(:anchor AS timestamptz) - interval '800 days'
FROM generate_series(1, CAST(:doctors AS bigint)) AS d
UNION ALL
SELECT pg_temp.hb_id(:seed, 'gdup' || k::text, i),
       pg_temp.hb_uid(:seed, 'gdup' || k::text, i),
       CASE WHEN i % 100 = :r_dup_phone THEN NULL
            WHEN k = 1 THEN upper(pg_temp.hb_email(i))
            ELSE ' ' || pg_temp.hb_email(i) || ' '
       END,
       CASE WHEN i % 100 = :r_dup_phone THEN pg_temp.hb_national(pg_temp.hb_phone(pg_temp.hb_area(i), i)) END,
       'PATIENT', false,
       CAST(:anchor AS timestamptz) - make_interval(days => 20 - k::int),
       CAST(:anchor AS timestamptz) - make_interval(days => 20 - k::int)
FROM generate_series(1, CAST(:n AS bigint)) AS i
CROSS JOIN generate_series(1, 2) AS k
WHERE (k = 1 AND i % 100 IN (:r_dup_email, :r_dup_email3, :r_dup_phone))
   OR (k = 2 AND i % 100 = :r_dup_email3)
