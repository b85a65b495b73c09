-- what:   the incremental run's cheap test for deletions: core users and those with a patients row,
--         counted per bucket (the first :width hex digits of the id: 16^width buckets); a bucket whose count
--         is below that of the run's merged copy lost rows, and only it is read again
-- store:  core
-- params: :width (int) how many leading characters of the id make a bucket
SELECT left(u.id::text, CAST(:width AS int)) AS b, count(*) AS n,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM patients p WHERE p.user_id = u.id)) AS patients
FROM users u
GROUP BY 1
