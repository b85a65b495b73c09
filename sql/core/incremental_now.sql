-- what:   the database's clock, taken before an incremental read: the watermark of that read
-- store:  core
-- params: none
SELECT clock_timestamp() AS now
