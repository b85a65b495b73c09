-- what:   the incremental run's cheap test for deletions: live Supabase auth users counted per
--         bucket (the first :width hex digits of the id: 16^width buckets); a bucket whose count is below
--         that of the run's merged copy lost rows, and only it is read again
-- store:  supabase
-- params: :width (int) how many leading characters of the id make a bucket
SELECT left(id::text, CAST(:width AS int)) AS b, count(*) AS n
FROM auth.users
WHERE deleted_at IS NULL
GROUP BY 1
