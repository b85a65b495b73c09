-- what:   how many core users there are and how many have a patients row: the incremental run's
--         cheap test for deletions (its merged copy holds more than these when a row went away)
-- store:  core
-- params: none
SELECT count(*) AS n,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM patients p WHERE p.user_id = u.id)) AS patients
FROM users u
