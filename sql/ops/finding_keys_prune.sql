-- what:   keep the finding keys of the :keep newest runs that have any, delete the older ones
-- store:  ops
-- params: :keep
DELETE FROM check_finding_keys
WHERE run_id NOT IN (SELECT DISTINCT run_id FROM check_finding_keys ORDER BY run_id DESC LIMIT :keep)
