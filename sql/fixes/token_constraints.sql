-- id:         token_constraints
-- title:      Token constraints: drop the pair UNIQUE, add UNIQUE (access_token)
-- what:       The sharing-token incident's schema fix: drops UNIQUE (patient_firebase_uid, doctor_firebase_uid) under
--             both of its names (as a constraint or as a bare index), and adds
--             patient_doctor_connections_access_token_key UNIQUE (access_token) unless a full
--             unique index on access_token alone already exists.
-- store:      supabase
-- resolves:   constraint.unexpected, constraint.missing
-- blocked_by: dup.access_tokens
-- verify:     constraint.unexpected[supabase.patient_doctor_connections.*],
--             constraint.missing[supabase.patient_doctor_connections.*],
--             constraint.mismatch[supabase.patient_doctor_connections.*]
-- affects:    dup.active_connections
-- risk:       medium: ALTER TABLE takes an ACCESS EXCLUSIVE lock on patient_doctor_connections
--             while the unique index is built (lock_timeout bounds the wait). Once the pair
--             UNIQUE is gone, duplicate active connections become possible: apply
--             active_connection_index next.
-- params:     none

-- step: drop the pair UNIQUE under the name the sharing-token incident's error shows
ALTER TABLE public.patient_doctor_connections
    DROP CONSTRAINT IF EXISTS patient_doctor_connections_patient_firebase_uid_doctor_fire_key

-- step: drop it under its full name (PostgreSQL keeps the first 63 characters)
ALTER TABLE public.patient_doctor_connections
    DROP CONSTRAINT IF EXISTS patient_doctor_connections_patient_firebase_uid_doctor_firebase

-- step: drop a bare unique index of the seed name (Prisma-style), if one is left
DROP INDEX IF EXISTS public.patient_doctor_connections_patient_firebase_uid_doctor_fire_key

-- step: and of the full name
DROP INDEX IF EXISTS public.patient_doctor_connections_patient_firebase_uid_doctor_firebase

-- step: add UNIQUE (access_token) unless a full unique index on access_token exists
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1
        FROM pg_index i
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = 'public.patient_doctor_connections'::regclass
          AND i.indisunique AND i.indisvalid AND i.indpred IS NULL
          AND i.indnkeyatts = 1 AND a.attname = 'access_token'
    ) THEN
        ALTER TABLE public.patient_doctor_connections
            ADD CONSTRAINT patient_doctor_connections_access_token_key UNIQUE (access_token);
    END IF;
END
$$
