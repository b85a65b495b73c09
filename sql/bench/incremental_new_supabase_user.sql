-- what:   a new live Supabase auth user of a Firebase uid, created now
-- store:  supabase (benchmark harness and tests only)
-- params: :id, :email, :phone, :meta (json text)
INSERT INTO auth.users (id, email, phone, raw_user_meta_data, raw_app_meta_data, created_at, updated_at)
VALUES (CAST(:id AS uuid), :email, :phone, CAST(:meta AS jsonb), '{}'::jsonb, now(), now())
