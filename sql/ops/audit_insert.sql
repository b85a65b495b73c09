-- what:   append one event to the access audit log (the only statement that writes audit_log)
-- store:  ops
-- params: :who, :role, :action (signin | lookup | unmask | export | fix.plan | fix.apply | audit.view),
--         :target (text or NULL), :detail (json text), :reason (text or NULL)
INSERT INTO audit_log (who, role, action, target, detail, reason)
VALUES (:who, :role, :action, :target, CAST(:detail AS jsonb), :reason)
RETURNING id
