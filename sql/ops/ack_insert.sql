-- what:   acknowledge a finding (a whole check when :finding_key is null) until :expires_at
-- store:  ops
-- params: :check_id, :finding_key (text or null), :comment, :expires_at (timestamptz), :created_by
INSERT INTO acknowledgements (check_id, finding_key, comment, expires_at, created_by)
VALUES (:check_id, :finding_key, :comment, :expires_at, :created_by)
RETURNING id
