-- what:   VACUUM (ANALYZE) the history tables after the pruning (what autovacuum does in time): the
--         space of the deleted rows becomes reusable, the files keep their size
-- store:  ops (benchmark harness only; outside a transaction)
-- params: none
VACUUM (ANALYZE) check_runs, check_results
