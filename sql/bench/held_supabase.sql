-- what:   whether Supabase holds the built data set: how many auth users it has (the builder
--         treats a missing table as "not built")
-- store:  supabase (benchmark builder only)
-- params: none
SELECT count(*) FROM auth.users
