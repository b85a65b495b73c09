-- what:   how many live Supabase auth users there are: the incremental run's cheap test for hard
--         deletions (its merged copy holds more than this when a row went away)
-- store:  supabase
-- params: none
SELECT count(*) AS n FROM auth.users WHERE deleted_at IS NULL
