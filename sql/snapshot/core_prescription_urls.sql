-- what:   core prescriptions and the md5 of their pdf_url (a 16-byte stand-in for the URL; a NULL
--         URL becomes the all-zero uuid, which no md5 is), in COPY's binary format
-- store:  core
-- params: none
SELECT id, coalesce(md5(pdf_url)::uuid, '00000000-0000-0000-0000-000000000000'::uuid) AS url_md5
FROM prescriptions
WHERE id IS NOT NULL
