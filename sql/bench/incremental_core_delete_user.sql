-- what:   a core user deleted (its patients row goes with it: ON DELETE CASCADE)
-- store:  core (benchmark harness and tests only)
-- params: :uid
DELETE FROM users WHERE firebase_uid = :uid
