-- what:   whether a sign-in session was signed out (gate() asks on every run: a primary-key lookup)
-- store:  ops
-- params: :session_id (text, lib.auth.session_id)
SELECT EXISTS (SELECT 1 FROM session_revocations WHERE session_id = :session_id)
