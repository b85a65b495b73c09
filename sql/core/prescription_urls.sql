-- what:   every prescription's id and pdf_url (sync.prescription_missing_in_supabase)
-- store:  core
-- params: none
SELECT id::text AS id, pdf_url FROM prescriptions
