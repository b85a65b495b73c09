-- what:   core `prescriptions`: one per patient i, on the appointment of i; its PDF is
--         documents/prescriptions/<id>.pdf, which Supabase holds as the patient's document 5.
--         Plant by i % 100: rx_appt_nowhere (appointment_id points nowhere:
--         orphan.prescriptions_appointment).
-- store:  core (benchmark builder only)
-- params: :seed, :n, :anchor (timestamptz), :public_prefix (the public documents URL prefix),
--         :r_rx_appt_nowhere
INSERT INTO prescriptions (id, appointment_id, pdf_url, summary_json, created_at)
SELECT pg_temp.hb_id(:seed, 'rx', i),
       CASE i % 100
           WHEN :r_rx_appt_nowhere THEN pg_temp.hb_id(:seed, 'nowhere-rx', i)
           ELSE pg_temp.hb_id(:seed, 'appointment', i)
       END,
       CAST(:public_prefix AS text) || 'prescriptions/' || pg_temp.hb_id(:seed, 'rx', i)::text || '.pdf',
       '{"medications": [{"name": "Metformin", "strength": "500 mg"}]}'::jsonb,
       CAST(:anchor AS timestamptz) - make_interval(days => 4 + (i % 300)::int)
FROM generate_series(1, CAST(:n AS bigint)) AS i
