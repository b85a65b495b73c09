-- what:   core `patients`: one row per patient i (1..:n), hanging off the user of i
-- store:  core (benchmark builder only)
-- params: :seed, :n, :anchor (timestamptz)
INSERT INTO patients (id, user_id, full_name, date_of_birth, created_at, updated_at)
SELECT pg_temp.hb_id(:seed, 'patient', i),
       pg_temp.hb_id(:seed, 'user', i),
       'Patient ' || i::text,
       DATE '1940-01-01' + ((i * 37) % 23725)::int,
       CAST(:anchor AS timestamptz) - make_interval(days => 30 + (i % 700)::int, secs => (i % 86400)::int),
       CAST(:anchor AS timestamptz) - make_interval(days => 29 + (i % 700)::int)
FROM generate_series(1, CAST(:n AS bigint)) AS i
