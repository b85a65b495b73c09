-- what:   the id of every core user, nothing else: read when the incremental run's counts show that
--         users were deleted, to drop them from its copy without reading the users again
-- store:  core
-- params: none
SELECT u.id::text AS id FROM users u
