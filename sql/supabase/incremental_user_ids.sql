-- what:   the id of every live Supabase auth user, nothing else: read when the incremental run's
--         count shows that users went away, to drop them from its copy
-- store:  supabase
-- params: none
SELECT id::text AS id FROM auth.users WHERE deleted_at IS NULL
