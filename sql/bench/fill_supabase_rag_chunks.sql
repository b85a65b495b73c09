-- what:   Supabase `public.rag_chunks`: one chunk (id i) of document 1 of each patient i (none
--         where document 1 is not in Supabase: doc_only_core). Plant by i % 100: orphan_chunk (a
--         chunk, id :n + i, of a document that does not exist: orphan.rag_chunks_document).
--         No embedding (NULL).
-- store:  supabase (benchmark builder only)
-- params: :seed, :n, :anchor (timestamptz), :r_doc_only_core, :r_orphan_chunk
INSERT INTO public.rag_chunks (id, patient_id, document_id, chunk_text, metadata, created_at)
SELECT i, pg_temp.hb_uid(:seed, 'patient', i), pg_temp.hb_id(:seed, 'doc', (i - 1) * 5 + 1),
       'lab report text', '{"source": "ocr"}'::jsonb,
       CAST(:anchor AS timestamptz) - make_interval(days => 1 + ((i * 5 + 1) % 300)::int)
FROM generate_series(1, CAST(:n AS bigint)) AS i
WHERE i % 100 <> :r_doc_only_core
UNION ALL
SELECT CAST(:n AS bigint) + i, pg_temp.hb_uid(:seed, 'patient', i), pg_temp.hb_id(:seed, 'nowhere-chunk', i),
       'chunk of a deleted document', '{"source": "ocr"}'::jsonb, CAST(:anchor AS timestamptz) - interval '5 days'
FROM generate_series(1, CAST(:n AS bigint)) AS i
WHERE i % 100 = :r_orphan_chunk
