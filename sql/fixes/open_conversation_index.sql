-- id:         open_conversation_index
-- title:      Partial unique indexes on open conversations (connection, psid)
-- what:       The duplicate-conversation incident's schema fix: drops every full UNIQUE (connection, psid) left from before
--             the change (a constraint or a bare Prisma @@unique index), and creates, for each of
--             the four connection columns, a unique index on (connection, psid) WHERE status is
--             OPEN or SNOOZED: the database, not the code, then prevents the duplicate-conversation incident's duplicates
--             while a customer may have many CLOSED conversations.
-- store:      core
-- resolves:   constraint.unexpected, dup.open_conversations
-- blocked_by: dup.open_conversations
-- verify:     constraint.unexpected[core.conversations.*] (and the post query below)
-- affects:    none
-- risk:       low once dup.open_conversations is 0: DROP takes an ACCESS EXCLUSIVE lock on
--             conversations and each CREATE INDEX a SHARE lock, held until commit
--             (lock_timeout bounds the wait); the builds scan conversations four times.
-- params:     none

-- step: drop every full unique (connection, psid), as a constraint or as a bare index
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT ic.relname AS index_name, con.conname
        FROM pg_index i
        JOIN pg_class ic ON ic.oid = i.indexrelid
        LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
        WHERE i.indrelid = 'public.conversations'::regclass
          AND i.indisunique AND NOT i.indisprimary
          AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indnatts = 2
          AND EXISTS (SELECT 1 FROM pg_attribute a
                      WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])
                        AND a.attname = 'psid')
          AND EXISTS (SELECT 1 FROM pg_attribute a
                      WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])
                        AND a.attname IN ('pageConnectionId', 'instagramConnectionId',
                                          'telegramConnectionId', 'widgetConfigId'))
    LOOP
        IF r.conname IS NOT NULL THEN
            EXECUTE format('ALTER TABLE public.conversations DROP CONSTRAINT %I', r.conname);
        ELSE
            EXECUTE format('DROP INDEX public.%I', r.index_name);
        END IF;
    END LOOP;
END
$$

-- step: unique open conversation per (pageConnectionId, psid)
CREATE UNIQUE INDEX IF NOT EXISTS "conversations_pageConnectionId_psid_open_key"
    ON public.conversations ("pageConnectionId", psid) WHERE status IN ('OPEN', 'SNOOZED')

-- step: unique open conversation per (instagramConnectionId, psid)
CREATE UNIQUE INDEX IF NOT EXISTS "conversations_instagramConnectionId_psid_open_key"
    ON public.conversations ("instagramConnectionId", psid) WHERE status IN ('OPEN', 'SNOOZED')

-- step: unique open conversation per (telegramConnectionId, psid)
CREATE UNIQUE INDEX IF NOT EXISTS "conversations_telegramConnectionId_psid_open_key"
    ON public.conversations ("telegramConnectionId", psid) WHERE status IN ('OPEN', 'SNOOZED')

-- step: unique open conversation per (widgetConfigId, psid)
CREATE UNIQUE INDEX IF NOT EXISTS "conversations_widgetConfigId_psid_open_key"
    ON public.conversations ("widgetConfigId", psid) WHERE status IN ('OPEN', 'SNOOZED')

-- post: the partial unique indexes that are absent or invalid
SELECT 'core.conversations.' || want.name AS key
FROM (VALUES ('conversations_pageConnectionId_psid_open_key'),
             ('conversations_instagramConnectionId_psid_open_key'),
             ('conversations_telegramConnectionId_psid_open_key'),
             ('conversations_widgetConfigId_psid_open_key')) AS want (name)
WHERE NOT EXISTS (
    SELECT 1
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relname = want.name
      AND i.indisunique AND i.indisvalid AND i.indpred IS NOT NULL)
