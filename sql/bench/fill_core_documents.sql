-- what:   core `documents`: the five documents of each patient i (pg_temp.hb_documents), the same
--         ids and file URLs as Supabase's. Plants by i % 100: doc_only_sb, doc_processing,
--         doc_uploaded (document 1 absent from core; only doc_only_sb's is processed, so only it
--         is sync.document_missing_in_core); rx_unsynced (document 5, the prescription PDF,
--         absent from both stores); doc_patient_user_id / doc_patient_nowhere (document 2's
--         patient_id is the user id / points nowhere: orphan.documents_patient, the deleted-patient outage).
-- store:  core (benchmark builder only)
-- params: :seed, :n, :anchor (timestamptz), :public_prefix, :signed_prefix, :r_doc_only_sb,
--         :r_doc_processing, :r_doc_uploaded, :r_rx_unsynced, :r_doc_patient_user_id,
--         :r_doc_patient_nowhere
INSERT INTO documents (id, patient_id, type, file_url, ocr_confidence, created_at)
SELECT d.id,
       CASE WHEN d.j = 2 AND d.i % 100 = :r_doc_patient_user_id THEN pg_temp.hb_id(:seed, 'user', d.i)
            WHEN d.j = 2 AND d.i % 100 = :r_doc_patient_nowhere THEN pg_temp.hb_id(:seed, 'nowhere-doc', d.i)
            ELSE pg_temp.hb_id(:seed, 'patient', d.i)
       END,
       d.type,
       d.file_url,
       0.9,
       CAST(:anchor AS timestamptz) - make_interval(days => 1 + ((d.i * 5 + d.j) % 300)::int) + interval '2 minutes'
FROM pg_temp.hb_documents(:seed, :n, :public_prefix, :signed_prefix) AS d
WHERE NOT (d.j = 1 AND d.i % 100 IN (:r_doc_only_sb, :r_doc_processing, :r_doc_uploaded))
  AND NOT (d.j = 5 AND d.i % 100 = :r_rx_unsynced)
