-- what:   of the given extensions, which this server can install (pg_available_extensions) and
--         which this database has (installed_version): the trigram index of the recommended lookup
--         indexes needs pg_trgm (lib.patient.indexes)
-- store:  core, supabase
-- params: :names (text[])
SELECT name::text AS name, installed_version IS NOT NULL AS installed
FROM pg_available_extensions
WHERE name = ANY(CAST(:names AS text[]))
