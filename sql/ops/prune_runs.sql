-- what:   prune the check history: every run is kept after :keep_all_since, then the last run of
--         each day after :keep_daily_since, none before (generated demo runs are kept); the last
--         run of each day is found once (a hashed subplan), not once per run
-- store:  ops
-- params: :keep_all_since, :keep_daily_since
DELETE FROM check_runs r
WHERE NOT r.generated
  AND r.started_at < :keep_all_since
  AND (r.started_at < :keep_daily_since
       OR r.id NOT IN (SELECT max(d.id) FROM check_runs d
                       WHERE NOT d.generated
                       GROUP BY date_trunc('day', d.started_at, 'UTC')))
