-- what:   the ids of core documents, as uuids for COPY's binary format (16 bytes each)
-- store:  core
-- params: none
SELECT id FROM documents WHERE id IS NOT NULL
