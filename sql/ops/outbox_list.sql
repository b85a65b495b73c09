-- what:   the latest alert messages with their last attempt, newest first (the Alerts page)
-- store:  ops
-- params: :limit
SELECT o.id, o.created_at, o.run_id, o.kind, o.channel, o.severity, o.title, o.body, o.checks, o.changes,
       o.status, o.attempts, o.next_attempt_at, o.sent_at, o.last_error,
       a.at AS last_attempt_at, a.ok AS last_attempt_ok
FROM alert_outbox o
LEFT JOIN LATERAL (SELECT at, ok FROM alert_attempts WHERE outbox_id = o.id ORDER BY id DESC LIMIT 1) a ON true
ORDER BY o.id DESC
LIMIT :limit
