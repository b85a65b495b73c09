-- what:   record that a sign-in session was signed out (the only statement that writes
--         session_revocations; signing out twice keeps the first row)
-- store:  ops
-- params: :session_id (text, lib.auth.session_id), :who (text), :signed_in_at (timestamptz or NULL)
INSERT INTO session_revocations (session_id, who, signed_in_at)
VALUES (:session_id, :who, :signed_in_at)
ON CONFLICT (session_id) DO NOTHING
