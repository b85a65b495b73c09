-- what:   every acknowledgement, ended and expired ones included (the page shows them apart),
--         newest first
-- store:  ops
-- params: :limit
SELECT id, check_id, finding_key, comment, expires_at, created_at, created_by, ended_at, ended_by
FROM acknowledgements
ORDER BY created_at DESC, id DESC
LIMIT :limit
