-- what:   the fix's advisory lock, held until its transaction ends: a second plan or apply of the
--         same fix while one runs gets false and is refused "locked"
-- store:  core, supabase (the fix's own transaction)
-- params: :namespace (int) the runner's lock namespace, :fix (text) the fix id
SELECT pg_try_advisory_xact_lock(CAST(:namespace AS integer), hashtext(:fix))
