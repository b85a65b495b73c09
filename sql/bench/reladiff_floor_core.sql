-- what:   the floor of the identity reconciliation, core side: the key columns alone (Firebase UID,
--         users.id), read with COPY ... TO STDOUT and counted in bytes, nothing parsed
-- store:  core
-- params: none
SELECT firebase_uid, id
FROM public.users
WHERE firebase_uid IS NOT NULL
