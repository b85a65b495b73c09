-- what:   a core user's email changed now (updated_at set, as the application does)
-- store:  core (benchmark harness and tests only)
-- params: :uid, :email
UPDATE users SET email = :email, updated_at = now() WHERE firebase_uid = :uid
