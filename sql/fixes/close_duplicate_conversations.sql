-- id:         close_duplicate_conversations
-- title:      Close duplicate open conversations
-- what:       The duplicate-conversation incident: per (connection, psid), for each of the four connection columns, keeps the
--             newest OPEN or SNOOZED conversation (by "lastMessageAt", as dup.open_conversations
--             orders them) and sets the others to CLOSED.
-- store:      core
-- resolves:   dup.open_conversations
-- blocked_by: none
-- verify:     dup.open_conversations
-- affects:    none
-- risk:       low: the customer's newest conversation stays open; the closed ones keep their
--             messages. Row locks only.
-- params:     none

-- step: close every OPEN or SNOOZED conversation but the newest per (connection, psid)
UPDATE public.conversations c
SET status = 'CLOSED'
FROM (
    SELECT id, row_number() OVER (
        PARTITION BY "pageConnectionId", "instagramConnectionId", "telegramConnectionId", "widgetConfigId", psid
        ORDER BY "lastMessageAt" DESC NULLS LAST, id DESC) AS rn
    FROM public.conversations
    WHERE status IN ('OPEN', 'SNOOZED')
      AND num_nonnulls("pageConnectionId", "instagramConnectionId", "telegramConnectionId", "widgetConfigId") > 0
) d
WHERE d.id = c.id AND d.rn > 1
RETURNING c.id AS key, c.psid, c."lastMessageAt" AS last_message_at
