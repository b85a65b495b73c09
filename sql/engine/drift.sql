-- what:   sync.field_drift's rows (table drift) from drift_firsts: for each uid, field (email, phone)
--         and pair of stores (in the order firebase_auth, firestore, core, supabase; oa < ob) whose
--         first rows both hold a normalised value and the two differ; the raw values beside them.
--         Appended pass by pass (drift_firsts holds one pass's uids) to the table drift_create makes
-- store:  engine (DuckDB, lib.checks.engine)
-- params: none
INSERT INTO drift
WITH names(o, store) AS (VALUES (0, 'firebase_auth'), (1, 'firestore'), (2, 'core'), (3, 'supabase')),
email AS (
    SELECT a.uid, a.o AS oa, b.o AS ob, a.email AS value_a, b.email AS value_b
    FROM drift_firsts a JOIN drift_firsts b ON b.uid = a.uid AND a.o < b.o
    WHERE a.email_n IS NOT NULL AND b.email_n IS NOT NULL AND a.email_n <> b.email_n
), phone AS (
    SELECT a.uid, a.o AS oa, b.o AS ob, a.phone AS value_a, b.phone AS value_b
    FROM drift_firsts a JOIN drift_firsts b ON b.uid = a.uid AND a.o < b.o
    WHERE a.phone_n IS NOT NULL AND b.phone_n IS NOT NULL AND a.phone_n <> b.phone_n
), found AS (
    SELECT 'email' AS field, * FROM email
    UNION ALL
    SELECT 'phone', * FROM phone
)
SELECT f.uid, f.field, na.store AS store_a, nb.store AS store_b, f.value_a, f.value_b, f.oa, f.ob
FROM found f
JOIN names na ON na.o = f.oa
JOIN names nb ON nb.o = f.ob
