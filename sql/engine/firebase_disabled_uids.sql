-- what:   the uids of the disabled Firebase Auth users (table fb_users, column disabled "True"): the array
--         parameter of the two access checks pushed down to Supabase
-- store:  engine (DuckDB, lib.checks.engine)
-- params: none
SELECT DISTINCT uid FROM fb_users WHERE uid IS NOT NULL AND disabled = 'True' ORDER BY uid
