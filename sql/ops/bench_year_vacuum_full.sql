-- what:   VACUUM FULL the history tables: rewritten compact, the size the kept history needs
-- store:  ops (benchmark harness only; outside a transaction)
-- params: none
VACUUM (FULL, ANALYZE) check_runs, check_results
