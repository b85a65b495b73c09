-- what:   each check's count on each given day: the count of the last run started that day (UTC
--         day starts given) whose result for the check has a count (one index probe per day and
--         check), for pulse.count_anomaly's recent history
-- store:  ops
-- params: :checks (text[]) the check ids, :days (timestamptz[]) the starts of the days (each day
--         lasts 24 hours)
SELECT ck.check_id, d.day, h.count
FROM unnest(CAST(:days AS timestamptz[])) AS d (day)
CROSS JOIN unnest(CAST(:checks AS text[])) AS ck (check_id)
CROSS JOIN LATERAL (
    SELECT c.count
    FROM check_runs r
    JOIN check_results c ON c.run_id = r.id AND c.check_id = ck.check_id
    WHERE r.started_at >= d.day
      AND r.started_at < d.day + interval '24 hours'
      AND c.count IS NOT NULL
    ORDER BY r.started_at DESC, r.id DESC
    LIMIT 1
) h
ORDER BY ck.check_id, d.day
