-- what:   the start of one fix attempt (plan or apply), appended before anything runs; its end is
--         another row (fix_audit_finish, or fix_audit_abandon when its process died)
-- store:  ops
-- params: :who, :role, :fix, :checksum, :action (plan | apply), :stores, :reason, :detail (json text)
INSERT INTO fix_audit (who, role, fix, checksum, action, stores, reason, outcome, detail)
VALUES (:who, :role, :fix, :checksum, :action, :stores, :reason, 'started', CAST(:detail AS jsonb))
RETURNING id
