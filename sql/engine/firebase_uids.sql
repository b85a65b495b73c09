-- what:   the distinct uids of the Firebase Auth listing (table fb_users): the array parameter of the two
--         checks pushed down to Supabase (documents and connections of no Firebase user)
-- store:  engine (DuckDB, lib.checks.engine)
-- params: none
SELECT DISTINCT uid FROM fb_users WHERE uid IS NOT NULL ORDER BY uid
