-- what:   the ids of Supabase documents and whether each is `processed`, in COPY's binary format
-- store:  supabase
-- params: none
SELECT id, coalesce(status = 'processed', false) AS processed FROM public.documents WHERE id IS NOT NULL
