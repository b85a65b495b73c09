-- what:   the rows sync.field_drift compares (table drift_firsts): for each store (o: 0 firebase_auth,
--         1 firestore, 2 core, 3 supabase) and uid of drift_wanted, the store's first row of the uid
--         (smallest rn; Supabase: its oldest live user): raw and normalised email and phone; only the
--         uids of one pass (hash(uid) % $parts = $part): the drift is built a slice of the uids at a
--         time, so that its aggregates stay within the engine's memory at millions of users
-- store:  engine (DuckDB, lib.checks.engine)
-- params: $parts (int): how many passes; $part (int): this pass, 0 to $parts - 1
CREATE OR REPLACE TABLE drift_firsts AS
WITH stores AS (
    SELECT 0 AS o, uid, rn, email, phone, email_n, phone_n FROM fb_users WHERE hash(uid) % $parts = $part
    UNION ALL
    SELECT 1, uid, rn, email, phone, email_n, phone_n FROM fs_profiles WHERE hash(uid) % $parts = $part
    UNION ALL
    SELECT 2, firebase_uid, rn, email, phone, email_n, phone_n FROM core_users WHERE hash(firebase_uid) % $parts = $part
    UNION ALL
    SELECT 3, firebase_uid, rn, email, phone, email_n, phone_n FROM sb_users WHERE hash(firebase_uid) % $parts = $part
), firsts AS (
    SELECT o, uid, min(rn) AS rn FROM stores WHERE uid IS NOT NULL GROUP BY o, uid
)
SELECT s.o, s.uid, s.email, s.phone, s.email_n, s.phone_n
FROM stores s
SEMI JOIN firsts f ON f.o = s.o AND f.uid = s.uid AND f.rn = s.rn
SEMI JOIN drift_wanted w ON w.uid = s.uid
WHERE s.email_n IS NOT NULL OR s.phone_n IS NOT NULL
