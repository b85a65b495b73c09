-- what:   the incremental run's cheap test for deletions: live Supabase auth users counted per
--         bucket (the first two hex digits of the id, 256 buckets); a bucket whose count is below
--         that of the run's merged copy lost rows, and only it is read again
-- store:  supabase
-- params: none
SELECT left(id::text, 2) AS b, count(*) AS n
FROM auth.users
WHERE deleted_at IS NULL
GROUP BY 1
