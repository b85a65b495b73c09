-- what:   the ops database's size and its history's rows (the simulated year of the watcher
--         benchmark): the database, the two history tables with their indexes, runs, results
-- store:  ops (benchmark harness only)
-- params: none
SELECT pg_database_size(current_database()) AS database_bytes,
       pg_total_relation_size('check_runs') AS runs_bytes,
       pg_total_relation_size('check_results') AS results_bytes,
       (SELECT count(*) FROM check_runs) AS runs,
       (SELECT count(*) FROM check_results) AS results,
       (SELECT count(DISTINCT date_trunc('day', started_at, 'UTC')) FROM check_runs) AS days
