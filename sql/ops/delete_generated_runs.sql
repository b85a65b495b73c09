-- what:   remove the demo's generated check history (runs marked generated, derived from the
--         manifest and written again from it; their results go with them) before a refill writes
--         the new data set's; real runs, the audit tables and acknowledgements are untouched
-- store:  ops
-- params: none
DELETE FROM check_runs WHERE generated
