-- what:   whether core holds the built data set: how many users it has (the builder treats a
--         missing table as "not built")
-- store:  core (benchmark builder only)
-- params: none
SELECT count(*) FROM users
