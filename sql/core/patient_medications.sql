-- what:   the patients' medications, each flagged `duplicate` when it is beyond the first (oldest)
--         of its (document_id, lower(name), strength) group, exactly as dup.medications ranks them
--         (the group is read whole, whoever's rows are in it), and `document_missing` when its
--         document_id names no core document (orphan.medications_document)
-- store:  core
-- params: :refs (uuid[] as text[]: patients.id and user ids); medications_patient_id_idx,
--         medications_document_id_idx
WITH mine AS (
    SELECT * FROM medications WHERE patient_id = ANY(CAST(:refs AS uuid[]))
), ranked AS (
    SELECT m.id, row_number() OVER (
        PARTITION BY m.document_id, lower(m.name), m.strength ORDER BY m.created_at, m.id) AS rn
    FROM medications m
    WHERE m.document_id IN (SELECT document_id FROM mine WHERE document_id IS NOT NULL)
)
SELECT m.id::text AS id, m.patient_id::text AS patient_id, m.document_id::text AS document_id, m.name, m.strength,
       m.form, m.frequency, m.route, m.duration_days, m.start_date, m.reminders_enabled, m.created_at,
       coalesce(r.rn, 1) > 1 AS duplicate,
       (m.document_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = m.document_id))
           AS document_missing
FROM mine m
LEFT JOIN ranked r ON r.id = m.id
ORDER BY m.created_at DESC, m.id
