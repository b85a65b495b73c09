-- what:   core `webhook_log` (the legacy table without a primary key): a few received webhooks
-- store:  core (benchmark builder only)
-- params: :anchor (timestamptz)
INSERT INTO webhook_log (received_at, source, payload)
SELECT CAST(:anchor AS timestamptz) - make_interval(days => k), 'firebase', '{"event": "user.created"}'::jsonb
FROM generate_series(0, 4) AS k
