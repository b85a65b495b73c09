-- what:   Supabase `public.documents`: the five documents of each patient i (pg_temp.hb_documents),
--         processed, the same ids and file URLs as core's. Plants by i % 100: doc_only_core
--         (document 1 absent: sync.document_missing_in_supabase); doc_processing / doc_uploaded
--         (document 1 not processed yet and absent from core: must not count); rx_unsynced
--         (document 5, the prescription PDF, absent) and rx_wrong_type (document 5 typed
--         lab_report): both sync.prescription_missing_in_supabase. doc_processing / doc_uploaded
--         are weeks old: pulse.documents_unprocessed; doc_processing_fresh (document 1 processing
--         since 15 minutes before the anchor, in core too): must not count for 15 minutes
--         (lib.bench.data.reanchor moves it). More documents: ghost_doc (an
--         upload by a UID Firebase does not know: orphan.supabase_documents_patient; failed, so
--         not missing in core).
-- store:  supabase (benchmark builder only)
-- params: :seed, :n, :anchor (timestamptz), :public_prefix, :signed_prefix, :r_doc_only_core,
--         :r_doc_processing, :r_doc_uploaded, :r_doc_processing_fresh, :r_rx_unsynced,
--         :r_rx_wrong_type, :r_ghost_doc
INSERT INTO public.documents (id, patient_id, type, file_url, text, structured_json, ocr_confidence, status,
                              created_at, processed_at)
SELECT x.id, x.uid, x.type, x.file_url, x.type || ' of patient ' || x.i::text, '{"medications": []}'::jsonb, 0.9,
       x.status, x.created_at, CASE WHEN x.status = 'processed' THEN x.created_at + interval '1 minute' END
FROM (
    SELECT d.i, d.id, d.uid,
           CASE WHEN d.j = 5 AND d.i % 100 = :r_rx_wrong_type THEN 'lab_report' ELSE d.type END AS type,
           d.file_url,
           CASE WHEN d.j = 1 AND d.i % 100 IN (:r_doc_processing, :r_doc_processing_fresh) THEN 'processing'
                WHEN d.j = 1 AND d.i % 100 = :r_doc_uploaded THEN 'uploaded'
                ELSE 'processed' END AS status,
           CASE WHEN d.j = 1 AND d.i % 100 = :r_doc_processing_fresh
                THEN CAST(:anchor AS timestamptz) - interval '15 minutes'
                ELSE CAST(:anchor AS timestamptz) - make_interval(days => 1 + ((d.i * 5 + d.j) % 300)::int)
           END AS created_at
    FROM pg_temp.hb_documents(:seed, :n, :public_prefix, :signed_prefix) AS d
    WHERE NOT (d.j = 1 AND d.i % 100 = :r_doc_only_core)
      AND NOT (d.j = 5 AND d.i % 100 = :r_rx_unsynced)
    UNION ALL
    SELECT i, pg_temp.hb_id(:seed, 'ghostdoc', i), pg_temp.hb_uid(:seed, 'gdoc', i), 'lab_report',
           CAST(:public_prefix AS text) || pg_temp.hb_uid(:seed, 'gdoc', i) || '/'
               || pg_temp.hb_id(:seed, 'ghostdoc', i)::text || '.pdf',
           'failed', CAST(:anchor AS timestamptz) - interval '3 days'
    FROM generate_series(1, CAST(:n AS bigint)) AS i
    WHERE i % 100 = :r_ghost_doc
) AS x
