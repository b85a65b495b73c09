-- what:   OPEN or SNOOZED conversations beyond the newest (by "lastMessageAt") per (connection, psid),
--         for each of the four connection columns (dup.open_conversations, the duplicate-conversation incident)
-- store:  core
-- params: none; key: the surplus conversation's id
SELECT id AS key
FROM (
    SELECT id, row_number() OVER (
        PARTITION BY "pageConnectionId", "instagramConnectionId", "telegramConnectionId", "widgetConfigId", psid
        ORDER BY "lastMessageAt" DESC NULLS LAST, id DESC) AS rn
    FROM conversations
    WHERE status IN ('OPEN', 'SNOOZED')
      AND num_nonnulls("pageConnectionId", "instagramConnectionId", "telegramConnectionId", "widgetConfigId") > 0
) c
WHERE rn > 1
