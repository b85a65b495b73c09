-- id:         ban_disabled_patients_in_supabase
-- title:      Ban in Supabase the patients disabled in Firebase Auth
-- what:       sets banned_until to 9999-12-31 23:59:59+00 (a ban without end) and updated_at to now
--             on every live Supabase auth user (deleted_at null, banned_until null or past) whose
--             metadata firebase_uid is a disabled Firebase Auth user
--             (identity.disabled_live_in_supabase). The disabled patients are read fresh from
--             Firebase Auth at plan and at apply (never a cached listing) and passed as
--             :disabled_uids; each changed user's previous banned_until and updated_at are kept in
--             ops_archive.banned_users first. Not 'infinity': PostgreSQL takes it, but clients
--             that read the column into a date (GoTrue's Go time, psycopg) fail on it.
-- store:      supabase
-- resolves:   identity.disabled_live_in_supabase
-- blocked_by: none
-- verify:     none
-- affects:    none
-- risk:       low: the user can no longer sign in to Supabase, as in Firebase; no row is deleted
--             and a user already banned until a later date is left as it is. Row locks only.
-- params:     :run_id (bigint) the audit log id of this run, recorded in every archived row;
--             :disabled_uids (text[]) the uids of the disabled Firebase Auth users, read by the runner

-- step: the archive schema (outside public: the advisor lints look at public only)
CREATE SCHEMA IF NOT EXISTS ops_archive

-- step: archive table for the banned users (what changes: banned_until, updated_at)
CREATE TABLE IF NOT EXISTS ops_archive.banned_users (
    id uuid NOT NULL, firebase_uid text, banned_until timestamptz, updated_at timestamptz,
    archived_at timestamptz NOT NULL, fix_id text NOT NULL, fix_run_id bigint NOT NULL)

-- step: archive, then ban, the live Supabase users of the disabled patients
WITH target AS (
    SELECT u.id, u.raw_user_meta_data ->> 'firebase_uid' AS firebase_uid, u.banned_until, u.updated_at
    FROM auth.users u
    WHERE u.deleted_at IS NULL
      AND (u.banned_until IS NULL OR u.banned_until <= now())
      AND u.raw_user_meta_data ->> 'firebase_uid' = ANY (CAST(:disabled_uids AS text[]))
), archived AS (
    INSERT INTO ops_archive.banned_users
    SELECT t.id, t.firebase_uid, t.banned_until, t.updated_at, now(), 'ban_disabled_patients_in_supabase',
           CAST(:run_id AS bigint)
    FROM target t
)
UPDATE auth.users u
SET banned_until = timestamptz '9999-12-31 23:59:59+00', updated_at = now()
FROM target t
WHERE u.id = t.id
RETURNING u.id::text AS key, t.firebase_uid, t.banned_until AS banned_until_before

-- post: live Supabase users of disabled patients left
SELECT u.id::text AS key
FROM auth.users u
WHERE u.deleted_at IS NULL
  AND (u.banned_until IS NULL OR u.banned_until <= now())
  AND u.raw_user_meta_data ->> 'firebase_uid' = ANY (CAST(:disabled_uids AS text[]))
