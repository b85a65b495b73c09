-- what:   `demo --clean`: the constraints and indexes the core database should have (system.md), so
--         that a clean demo has no finding at all: foreign keys right and validated, the partial
--         unique indexes of the duplicate-conversation incident instead of the old telegram UNIQUE, no duplicate index, every
--         foreign key indexed, every table with a primary key.
-- store:  core (demo only)
-- params: none
ALTER TABLE appointments ADD CONSTRAINT appointments_patient_id_fkey
    FOREIGN KEY (patient_id) REFERENCES patients (user_id) ON DELETE CASCADE;
ALTER TABLE prescriptions ADD CONSTRAINT prescriptions_appointment_id_fkey
    FOREIGN KEY (appointment_id) REFERENCES appointments (id);
ALTER TABLE medications ADD CONSTRAINT medications_patient_id_fkey
    FOREIGN KEY (patient_id) REFERENCES patients (id);
ALTER TABLE medications ADD CONSTRAINT medications_document_id_fkey
    FOREIGN KEY (document_id) REFERENCES documents (id);
ALTER TABLE documents ADD CONSTRAINT fk_documents_patient
    FOREIGN KEY (patient_id) REFERENCES patients (id) ON DELETE CASCADE;
ALTER TABLE session_notes ADD CONSTRAINT fk_session_notes_patient
    FOREIGN KEY (patient_id) REFERENCES patients (id) ON DELETE CASCADE;
CREATE INDEX prescriptions_appointment_id_idx ON prescriptions (appointment_id);
CREATE INDEX doctors_user_id_idx ON doctors (user_id);
DROP INDEX idx_sync_jobs_status_created;
DROP INDEX "conversations_telegramConnectionId_psid_key";
CREATE UNIQUE INDEX "conversations_pageConnectionId_psid_open_key" ON conversations ("pageConnectionId", psid)
    WHERE status IN ('OPEN', 'SNOOZED');
CREATE UNIQUE INDEX "conversations_instagramConnectionId_psid_open_key" ON conversations ("instagramConnectionId", psid)
    WHERE status IN ('OPEN', 'SNOOZED');
CREATE UNIQUE INDEX "conversations_telegramConnectionId_psid_open_key" ON conversations ("telegramConnectionId", psid)
    WHERE status IN ('OPEN', 'SNOOZED');
CREATE UNIQUE INDEX "conversations_widgetConfigId_psid_open_key" ON conversations ("widgetConfigId", psid)
    WHERE status IN ('OPEN', 'SNOOZED');
ALTER TABLE webhook_log ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
