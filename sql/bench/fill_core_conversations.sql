-- what:   core `conversations` (the support inbox): one per even patient i, on one of the four
--         connection columns, its own psid (status OPEN, SNOOZED, CLOSED, CLOSED in turn). Plants by
--         i % 100, each a group on one (connection, psid): conv_two (page: OPEN, OPEN: counts 1),
--         conv_snoozed (instagram: SNOOZED, OPEN, CLOSED: counts 1), conv_closed (page: OPEN,
--         CLOSED, CLOSED: must not count), conv_three (widget: OPEN, OPEN, SNOOZED: counts 2).
--         Never telegram: its old UNIQUE (connection, psid) index is still there.
-- store:  core (benchmark builder only)
-- params: :seed, :n, :anchor (timestamptz), :r_conv_two, :r_conv_snoozed, :r_conv_closed, :r_conv_three
WITH convs (id, col, connection, psid, status, last_at) AS (
    SELECT 'conv_' || left(md5(CAST(:seed AS text) || '/conv/' || i::text), 20),
           (i / 2) % 4, 'conn_' || (i % 7)::text, 'psid' || i::text,
           (ARRAY['OPEN', 'SNOOZED', 'CLOSED', 'CLOSED'])[(i / 2) % 4 + 1],
           CAST(:anchor AS timestamptz) - make_interval(hours => 1 + (i % 1000)::int)
    FROM generate_series(2, CAST(:n AS bigint), 2) AS i
    UNION ALL
    SELECT 'conv_' || left(md5(CAST(:seed AS text) || '/convdup/' || i::text || '/' || g.k::text), 20),
           g.col, 'conn_dup', 'dup' || i::text, g.status,
           CAST(:anchor AS timestamptz) - make_interval(hours => g.k)
    FROM generate_series(1, CAST(:n AS bigint)) AS i
    JOIN (VALUES (:r_conv_two, 1, 0, 'OPEN'), (:r_conv_two, 2, 0, 'OPEN'),
                 (:r_conv_snoozed, 1, 1, 'SNOOZED'), (:r_conv_snoozed, 2, 1, 'OPEN'), (:r_conv_snoozed, 3, 1, 'CLOSED'),
                 (:r_conv_closed, 1, 0, 'OPEN'), (:r_conv_closed, 2, 0, 'CLOSED'), (:r_conv_closed, 3, 0, 'CLOSED'),
                 (:r_conv_three, 1, 3, 'OPEN'), (:r_conv_three, 2, 3, 'OPEN'), (:r_conv_three, 3, 3, 'SNOOZED'))
         AS g (r, k, col, status) ON g.r = i % 100
)
INSERT INTO conversations (id, "pageConnectionId", "instagramConnectionId", "telegramConnectionId",
                           "widgetConfigId", psid, status, "lastMessageAt", "createdAt")
SELECT c.id,
       CASE c.col WHEN 0 THEN 'page_' || c.connection END,
       CASE c.col WHEN 1 THEN 'insta_' || c.connection END,
       CASE c.col WHEN 2 THEN 'tg_' || c.connection END,
       CASE c.col WHEN 3 THEN 'widget_' || c.connection END,
       c.psid, c.status, c.last_at, c.last_at - interval '1 day'
FROM convs AS c
