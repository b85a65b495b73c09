-- what:   after the fill: VACUUM (ANALYZE) the whole database, so that the checks measured next find
--         statistics, the visibility map and hint bits in place (not the first reader's job)
-- store:  core and supabase (benchmark builder only; outside a transaction)
-- params: none
VACUUM (ANALYZE)
