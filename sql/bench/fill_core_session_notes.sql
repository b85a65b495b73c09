-- what:   core `session_notes`: one per patient i, written by the patient's doctor. Plants by
--         i % 100: note_patient_user_id / note_patient_nowhere (patient_id is the user id /
--         points nowhere: orphan.session_notes_patient, the deleted-patient outage).
-- store:  core (benchmark builder only)
-- params: :seed, :n, :doctors, :anchor (timestamptz), :r_note_patient_user_id, :r_note_patient_nowhere
INSERT INTO session_notes (id, patient_id, doctor_id, note, created_at)
SELECT pg_temp.hb_id(:seed, 'note', i),
       CASE i % 100
           WHEN :r_note_patient_user_id THEN pg_temp.hb_id(:seed, 'user', i)
           WHEN :r_note_patient_nowhere THEN pg_temp.hb_id(:seed, 'nowhere-note', i)
           ELSE pg_temp.hb_id(:seed, 'patient', i)
       END,
       pg_temp.hb_id(:seed, 'doctor', i % :doctors + 1),
       'Follow-up in two weeks.',
       CAST(:anchor AS timestamptz) - make_interval(days => 1 + (i % 200)::int)
FROM generate_series(1, CAST(:n AS bigint)) AS i
