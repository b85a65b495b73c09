-- what:   the patients row of a new core user, created now
-- store:  core (benchmark harness and tests only)
-- params: :id, :user_id, :name
INSERT INTO patients (id, user_id, full_name, date_of_birth, created_at, updated_at)
VALUES (CAST(:id AS uuid), CAST(:user_id AS uuid), :name, NULL, now(), now())
