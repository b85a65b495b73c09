-- what:   core `doctors`: doctor d (1..:doctors) hanging off the doctor's user
-- store:  core (benchmark builder only)
-- params: :seed, :doctors
INSERT INTO doctors (id, user_id, full_name, specialty)
SELECT pg_temp.hb_id(:seed, 'doctor', d),
       pg_temp.hb_id(:seed, 'doctoruser', d),
       'Dr. Doctor ' || d::text,
       (ARRAY['cardiology', 'dermatology', 'general practice', 'endocrinology', 'pediatrics', 'neurology'])[d % 6 + 1]
FROM generate_series(1, CAST(:doctors AS bigint)) AS d
