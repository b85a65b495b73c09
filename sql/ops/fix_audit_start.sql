-- what:   open the audit record of one fix attempt (plan or apply), before anything runs; the
--         runner completes it with fix_audit_finish when the attempt ends
-- store:  ops
-- params: :who, :role, :fix, :checksum, :action (plan | apply), :stores, :reason, :detail (json text)
INSERT INTO fix_audit (who, role, fix, checksum, action, stores, reason, outcome, detail)
VALUES (:who, :role, :fix, :checksum, :action, :stores, :reason, 'started', CAST(:detail AS jsonb))
RETURNING id
