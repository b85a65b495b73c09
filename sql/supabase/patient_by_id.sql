-- what:   the Firebase UID behind a Supabase id: an auth user id (its metadata firebase_uid), a
--         document id (its patient_id) or a connection id (its patient_firebase_uid)
-- store:  supabase
-- params: :id (uuid as text); every branch is a primary-key lookup
SELECT raw_user_meta_data ->> 'firebase_uid' AS firebase_uid, 'Supabase auth user id' AS via
FROM auth.users
WHERE id = CAST(:id AS uuid)
UNION ALL
SELECT patient_id, 'Supabase document id'
FROM public.documents
WHERE id = CAST(:id AS uuid)
UNION ALL
SELECT patient_firebase_uid, 'Supabase connection id'
FROM public.patient_doctor_connections
WHERE id = CAST(:id AS uuid)
