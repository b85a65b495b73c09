-- what:   core `medications`: one per patient i, extracted from document 1 (none where document 1
--         never reached core: doc_only_sb, doc_processing, doc_uploaded). Plants by i % 100:
--         dup_medication (the sync ran twice: the same drug again, name upper-cased; and the same
--         drug in another strength, which must not count); orphan_medication (a medication of a
--         document that does not exist, and one without a document, which must not count).
-- store:  core (benchmark builder only)
-- params: :seed, :n, :anchor (timestamptz), :r_doc_only_sb, :r_doc_processing, :r_doc_uploaded,
--         :r_dup_medication, :r_orphan_medication
WITH drugs (k, name, strength) AS (
    VALUES (0, 'Metformin', '500 mg'), (1, 'Lisinopril', '10 mg'), (2, 'Atorvastatin', '20 mg'),
           (3, 'Amoxicillin', '250 mg'), (4, 'Levothyroxine', '50 mcg'), (5, 'Omeprazole', '20 mg'),
           (6, 'Sertraline', '50 mg'), (7, 'Ibuprofen', '400 mg')
),
meds (i, kind, document_id, name, strength, created_at) AS (
    SELECT i, 'med', pg_temp.hb_id(:seed, 'doc', (i - 1) * 5 + 1), dr.name, dr.strength,
           CAST(:anchor AS timestamptz) - make_interval(days => 1 + ((i * 5 + 1) % 300)::int) + interval '3 minutes'
    FROM generate_series(1, CAST(:n AS bigint)) AS i
    JOIN drugs AS dr ON dr.k = i % 8
    WHERE i % 100 NOT IN (:r_doc_only_sb, :r_doc_processing, :r_doc_uploaded)
    UNION ALL
    SELECT i, v.kind,
           CASE v.kind WHEN 'med-orphan' THEN pg_temp.hb_id(:seed, 'nowhere-med', i)
                       WHEN 'med-nodoc' THEN NULL
                       ELSE pg_temp.hb_id(:seed, 'doc', (i - 1) * 5 + 1) END,
           CASE v.kind WHEN 'med-again' THEN upper(dr.name) ELSE dr.name END,
           CASE v.kind WHEN 'med-strength' THEN '1000 mg' ELSE dr.strength END,
           CAST(:anchor AS timestamptz) - interval '12 hours'
    FROM generate_series(1, CAST(:n AS bigint)) AS i
    JOIN drugs AS dr ON dr.k = i % 8
    JOIN (VALUES (:r_dup_medication, 'med-again'), (:r_dup_medication, 'med-strength'),
                 (:r_orphan_medication, 'med-orphan'), (:r_orphan_medication, 'med-nodoc')) AS v (r, kind)
      ON v.r = i % 100
)
INSERT INTO medications (id, patient_id, document_id, name, strength, form, frequency, route, duration_days,
                         start_date, reminders_enabled, created_at)
SELECT pg_temp.hb_id(:seed, m.kind, m.i), pg_temp.hb_id(:seed, 'patient', m.i), m.document_id, m.name,
       m.strength, 'tablet', 'once daily', 'oral', 30, m.created_at::date, m.i % 2 = 0, m.created_at
FROM meds AS m
