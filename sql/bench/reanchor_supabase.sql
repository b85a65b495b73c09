-- what:   move the tokens that expire within 30 days of the data set's anchor (either side) by the
--         time since that anchor, so that the token checks, which count against now(), find the
--         planted counts again
-- store:  supabase (benchmark builder only)
-- params: :anchor (the data set's anchor), :now (the new anchor), both timestamptz
UPDATE public.patient_doctor_connections
SET token_expires_at = token_expires_at + (CAST(:now AS timestamptz) - CAST(:anchor AS timestamptz))
WHERE token_expires_at > CAST(:anchor AS timestamptz) - interval '30 days'
  AND token_expires_at < CAST(:anchor AS timestamptz) + interval '30 days'
