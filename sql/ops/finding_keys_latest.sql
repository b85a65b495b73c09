-- what:   the finding keys of the newest run that saved any: check id, whether complete, the keys,
--         and when that run started
-- store:  ops
-- params: none
SELECT k.run_id, r.started_at, k.check_id, k.complete, k.keys
FROM check_finding_keys k
JOIN check_runs r ON r.id = k.run_id
WHERE k.run_id = (SELECT max(run_id) FROM check_finding_keys)
