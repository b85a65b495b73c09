-- what:   the benchmark builder's session: fast bulk loading (no waiting for WAL flushes, large
--         sort memory for the index builds after the fill) and the helper functions every fill
--         statement uses, so that each id, Firebase UID, email and phone has one formula here
--         (lib/bench/data.py computes the same values in Python for Firebase):
--           hb_id(seed, kind, i)   md5(seed/kind/i) as a uuid
--           hb_uid(seed, kind, i)  28 chars: kind's first letter, i in 8 digits, 19 hex of md5
--           hb_email(i)            patient<i>@bench.example.com
--           hb_phone(area, k)      +1 <area> <200 + (k / 10000) % 800> <k % 10000>, valid E.164
--           hb_area(i)             a patient's area code (ten US area codes by i % 10)
--           hb_national(e164)      +1 (AAA) EEE-LLLL: the same number written otherwise
--           hb_documents(seed, n, public_prefix, signed_prefix)
--                                  the five documents of each patient i (j = 1..5): id, type,
--                                  the storage object's name and the file_url naming it (j = 4
--                                  a signed URL with a token, j = 5 the prescription PDF)
--         Temporary functions (schema pg_temp): they vanish with the session, nothing is left
--         in the stores' schema.
-- store:  core and supabase (benchmark builder only, a session of its own)
-- params: none
SET synchronous_commit = off;
SET maintenance_work_mem = '512MB';
SET work_mem = '64MB';
SET jit = off;

CREATE FUNCTION pg_temp.hb_id(seed integer, kind text, i bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT md5(seed::text || '/' || kind || '/' || i::text)::uuid $$;

CREATE FUNCTION pg_temp.hb_uid(seed integer, kind text, i bigint) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT left(kind, 1) || lpad(i::text, 8, '0') || left(md5(seed::text || '/' || kind || '/' || i::text), 19) $$;

CREATE FUNCTION pg_temp.hb_email(i bigint) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT 'patient' || i::text || '@bench.example.com' $$;

CREATE FUNCTION pg_temp.hb_phone(area text, k bigint) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT '+1' || area || lpad((200 + (k / 10000) % 800)::text, 3, '0') || lpad((k % 10000)::text, 4, '0') $$;

CREATE FUNCTION pg_temp.hb_area(i bigint) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (ARRAY['415', '212', '617', '312', '206', '512', '303', '404', '702', '919'])[i % 10 + 1] $$;

CREATE FUNCTION pg_temp.hb_national(e164 text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT '+1 (' || substr(e164, 3, 3) || ') ' || substr(e164, 6, 3) || '-' || substr(e164, 9, 4) $$;

CREATE FUNCTION pg_temp.hb_documents(seed integer, n bigint, public_prefix text, signed_prefix text)
    RETURNS TABLE (i bigint, j integer, id uuid, uid text, type text, object_name text, file_url text)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT d.i, d.j, d.id, d.uid,
           (ARRAY['lab_report', 'scan', 'discharge_summary', 'lab_report', 'prescription'])[d.j],
           d.name,
           CASE d.j WHEN 4 THEN signed_prefix || d.name || '?token=' || left(md5(d.id::text), 16)
                    ELSE public_prefix || d.name END
    FROM (
        SELECT p.i, j.j, p.uid, doc.id,
               CASE j.j WHEN 5 THEN 'prescriptions/' || p.rx || '.pdf'
                        ELSE p.uid || '/' || doc.id::text || '.pdf' END AS name
        FROM (
            SELECT g AS i, pg_temp.hb_uid(seed, 'patient', g) AS uid, pg_temp.hb_id(seed, 'rx', g)::text AS rx
            FROM generate_series(1, n) AS g
            OFFSET 0
        ) AS p
        CROSS JOIN generate_series(1, 5) AS j(j)
        CROSS JOIN LATERAL (SELECT pg_temp.hb_id(seed, 'doc', (p.i - 1) * 5 + j.j) AS id OFFSET 0) AS doc
        OFFSET 0
    ) AS d
    $$;
