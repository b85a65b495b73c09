-- what:   the uids sync.field_drift compares in a check run: the patients, i.e. core users with role
--         PATIENT and Firebase Auth users with role claim patient (table drift_wanted)
-- store:  engine (DuckDB, lib.checks.engine)
-- params: none
CREATE OR REPLACE TABLE drift_wanted AS
SELECT firebase_uid AS uid FROM core_users WHERE role = 'PATIENT' AND firebase_uid IS NOT NULL
UNION
SELECT uid FROM fb_users WHERE role = 'patient' AND uid IS NOT NULL
