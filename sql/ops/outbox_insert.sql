-- what:   queue one alert message for one channel (in the transaction that saves the run)
-- store:  ops
-- params: :run_id, :kind, :channel, :channel_key, :severity, :title, :body, :notify_type, :dedup_key,
--         :checks (json text), :changes (json text), :status
INSERT INTO alert_outbox (run_id, kind, channel, channel_key, severity, title, body, notify_type, dedup_key,
                          checks, changes, status)
VALUES (:run_id, :kind, :channel, :channel_key, :severity, :title, :body, :notify_type, :dedup_key,
        CAST(:checks AS jsonb), CAST(:changes AS jsonb), :status)
RETURNING id
