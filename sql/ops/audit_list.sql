-- what:   the access audit log, newest first, filtered by who / action / time (NULL: any)
-- store:  ops
-- params: :who (text or NULL, a substring, case-insensitive), :action (text or NULL, exact or a
--         prefix ending with a dot such as 'fix.'), :since, :until (timestamptz or NULL), :limit (int)
SELECT id, at, who, role, action, target, reason, detail
FROM audit_log
WHERE (CAST(:who AS text) IS NULL OR who ILIKE '%' || CAST(:who AS text) || '%')
  AND (CAST(:action AS text) IS NULL OR action = CAST(:action AS text)
       OR (right(CAST(:action AS text), 1) = '.' AND starts_with(action, CAST(:action AS text))))
  AND (CAST(:since AS timestamptz) IS NULL OR at >= CAST(:since AS timestamptz))
  AND (CAST(:until AS timestamptz) IS NULL OR at < CAST(:until AS timestamptz))
ORDER BY id DESC
LIMIT :limit
