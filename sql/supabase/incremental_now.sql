-- what:   the database's clock, taken before an incremental read: the watermark of that read
-- store:  supabase
-- params: none
SELECT clock_timestamp() AS now
