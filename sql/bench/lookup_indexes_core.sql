-- what:   the indexes the patient lookup needs on a large core database (recommended in
--         BENCHMARKS.md and in the headers of sql/core/patient_by_email.sql / patient_by_phone.sql):
--         the email trimmed and lower-cased, and the phone's last 7 digits, whatever its format.
--         The dashboard never creates them (it only reads); the benchmark's deployment has them.
-- store:  core (benchmark builder only)
-- params: none
CREATE INDEX IF NOT EXISTS users_email_lookup_idx ON users (lower(btrim(email)));
CREATE INDEX IF NOT EXISTS users_phone_tail_idx ON users (right(regexp_replace(phone, '\D', '', 'g'), 7));
