-- what:   core `appointments`: one completed appointment per patient i with doctor i % :doctors + 1.
--         Plants by i % 100: appt_patient_id (patient_id is the patients.id, the appointment-key mix-up),
--         appt_nowhere (patient_id points nowhere); both are orphan.appointments_patient.
-- store:  core (benchmark builder only)
-- params: :seed, :n, :doctors, :anchor (timestamptz), :r_appt_patient_id, :r_appt_nowhere
INSERT INTO appointments (id, patient_id, doctor_id, type, status, scheduled_at, created_at)
SELECT pg_temp.hb_id(:seed, 'appointment', i),
       CASE i % 100
           WHEN :r_appt_patient_id THEN pg_temp.hb_id(:seed, 'patient', i)
           WHEN :r_appt_nowhere THEN pg_temp.hb_id(:seed, 'nowhere-appointment', i)
           ELSE pg_temp.hb_id(:seed, 'user', i)
       END,
       pg_temp.hb_id(:seed, 'doctor', i % :doctors + 1),
       CASE WHEN i % 2 = 0 THEN 'video' ELSE 'in_person' END,
       'completed',
       CAST(:anchor AS timestamptz) - make_interval(days => 5 + (i % 300)::int),
       CAST(:anchor AS timestamptz) - make_interval(days => 10 + (i % 300)::int)
FROM generate_series(1, CAST(:n AS bigint)) AS i
