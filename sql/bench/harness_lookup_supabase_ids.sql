-- what:   for the patient lookup benchmark's sampled UIDs, the Supabase ids the lookup recognises:
--         the oldest live auth user's id and one document id of each patient (NULL where none)
-- store:  supabase
-- params: :uids (text[] of Firebase UIDs); each branch is an index lookup
SELECT uid AS firebase_uid,
       (SELECT u.id::text
        FROM auth.users u
        WHERE u.raw_user_meta_data ->> 'firebase_uid' = uid AND u.deleted_at IS NULL
        ORDER BY u.created_at, u.id
        LIMIT 1) AS user_id,
       (SELECT d.id::text
        FROM public.documents d
        WHERE d.patient_id = uid
        ORDER BY d.id
        LIMIT 1) AS document_id
FROM unnest(CAST(:uids AS text[])) AS uid
