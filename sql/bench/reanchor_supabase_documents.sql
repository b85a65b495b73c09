-- what:   move the documents not processed yet that were created within a day of the data set's
--         anchor by the time since that anchor, so that the fresh one stays under the threshold of
--         pulse.documents_unprocessed (which counts against now())
-- store:  supabase (benchmark builder only)
-- params: :anchor (the data set's anchor), :now (the new anchor), both timestamptz
UPDATE public.documents
SET created_at = created_at + (CAST(:now AS timestamptz) - CAST(:anchor AS timestamptz))
WHERE status IN ('uploaded', 'processing')
  AND created_at > CAST(:anchor AS timestamptz) - interval '1 day'
