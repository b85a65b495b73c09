-- what:   a new core patient user, created now (the incremental benchmark's "new user")
-- store:  core (benchmark harness and tests only)
-- params: :id, :uid, :email, :phone
INSERT INTO users (id, firebase_uid, email, phone, role, verified, created_at, updated_at)
VALUES (CAST(:id AS uuid), :uid, :email, :phone, 'PATIENT', true, now(), now())
