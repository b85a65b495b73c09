-- what:   Supabase `storage.objects` in bucket `documents`: the file of every Supabase document
--         (the same documents as fill_supabase_documents.sql: not document 1 of doc_only_core, not
--         document 5 of rx_unsynced; the ghost_doc uploads). Plants by i % 100: file_missing
--         (document 3's file absent: orphan.documents_file_missing); stray_object (a file no
--         document names: orphan.storage_objects); other_bucket (a file in bucket `avatars`: must
--         not count).
-- store:  supabase (benchmark builder only)
-- params: :seed, :n, :anchor (timestamptz), :public_prefix, :signed_prefix, :r_doc_only_core,
--         :r_rx_unsynced, :r_file_missing, :r_ghost_doc, :r_stray_object, :r_other_bucket
INSERT INTO storage.objects (id, bucket_id, name, created_at, metadata)
SELECT x.id, x.bucket, x.name, CAST(:anchor AS timestamptz) - interval '1 day' * (1 + x.i % 300),
       '{"mimetype": "application/pdf", "size": 120000}'::jsonb
FROM (
    SELECT d.i, pg_temp.hb_id(:seed, 'object', (d.i - 1) * 5 + d.j) AS id, 'documents' AS bucket, d.object_name AS name
    FROM pg_temp.hb_documents(:seed, :n, :public_prefix, :signed_prefix) AS d
    WHERE NOT (d.j = 1 AND d.i % 100 = :r_doc_only_core)
      AND NOT (d.j = 5 AND d.i % 100 = :r_rx_unsynced)
      AND NOT (d.j = 3 AND d.i % 100 = :r_file_missing)
    UNION ALL
    SELECT i, pg_temp.hb_id(:seed, 'ghostobject', i), 'documents',
           pg_temp.hb_uid(:seed, 'gdoc', i) || '/' || pg_temp.hb_id(:seed, 'ghostdoc', i)::text || '.pdf'
    FROM generate_series(1, CAST(:n AS bigint)) AS i
    WHERE i % 100 = :r_ghost_doc
    UNION ALL
    SELECT i, pg_temp.hb_id(:seed, 'strayobject', i),
           CASE i % 100 WHEN :r_other_bucket THEN 'avatars' ELSE 'documents' END,
           pg_temp.hb_uid(:seed, 'patient', i) || '/stray-' || pg_temp.hb_id(:seed, 'strayobject', i)::text || '.pdf'
    FROM generate_series(1, CAST(:n AS bigint)) AS i
    WHERE i % 100 IN (:r_stray_object, :r_other_bucket)
) AS x
