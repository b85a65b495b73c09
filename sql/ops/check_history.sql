-- what:   each check's count over time: in every :unit ('day' or 'week') since :since, the last
--         run that ran the check (one index probe per period and check, however many runs the
--         history holds), for the trend lines of the monitoring pages and the weekly review
-- store:  ops
-- params: :checks (text[]) the check ids, :unit ('day' | 'week'), :since (timestamptz)
SELECT ck.check_id, p.period, h.run_id, h.started_at, h.generated, h.count
FROM generate_series(date_trunc(CAST(:unit AS text), CAST(:since AS timestamptz)), now(),
                     CAST('1 ' || CAST(:unit AS text) AS interval)) AS p (period)
CROSS JOIN unnest(CAST(:checks AS text[])) AS ck (check_id)
CROSS JOIN LATERAL (
    SELECT r.id AS run_id, r.started_at, r.generated, c.count
    FROM check_runs r
    JOIN check_results c ON c.run_id = r.id AND c.check_id = ck.check_id
    WHERE r.started_at >= p.period
      AND r.started_at < p.period + CAST('1 ' || CAST(:unit AS text) AS interval)
    ORDER BY r.started_at DESC, r.id DESC
    LIMIT 1
) h
ORDER BY ck.check_id, p.period
