-- what:   whether the demo's core database already holds the schema (demo fills it only when empty)
-- store:  core (demo only)
-- params: none
SELECT to_regclass('public.users') IS NOT NULL
