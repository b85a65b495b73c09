-- what:   medications whose document_id is set and is no core document (orphan.medications_document)
-- store:  core
-- params: none; key: the medication id
SELECT m.id::text AS key
FROM medications m
WHERE m.document_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = m.document_id)
