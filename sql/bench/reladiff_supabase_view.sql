-- what:   the benchmark's view of Supabase identities for reladiff: per metadata firebase_uid, the
--         oldest live auth user (created_at, then id) and its metadata postgres_id as a uuid (a
--         value that is no uuid becomes NULL, which still differs from every core users.id).
--         Quals on firebase_uid are pushed below DISTINCT ON onto users_firebase_uid_idx.
--         Benchmark-only write path (schema bench of the benchmark's own stores).
-- store:  supabase
-- params: none
CREATE SCHEMA IF NOT EXISTS bench;
CREATE OR REPLACE VIEW bench.supabase_identities AS
SELECT DISTINCT ON (firebase_uid) firebase_uid, pid
FROM (
    SELECT raw_user_meta_data ->> 'firebase_uid' AS firebase_uid,
           CASE WHEN raw_user_meta_data ->> 'postgres_id'
                     ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$'
                THEN CAST(raw_user_meta_data ->> 'postgres_id' AS uuid) END AS pid,
           created_at, id
    FROM auth.users
    WHERE deleted_at IS NULL AND raw_user_meta_data ->> 'firebase_uid' IS NOT NULL
) live
ORDER BY firebase_uid, created_at, id;
