-- what:   a new processed Supabase document of a patient (by Firebase uid), created now
-- store:  supabase (benchmark harness and tests only)
-- params: :id, :uid, :url
INSERT INTO public.documents (id, patient_id, type, file_url, status, created_at, processed_at)
VALUES (CAST(:id AS uuid), :uid, 'lab_report', :url, 'processed', now(), now())
