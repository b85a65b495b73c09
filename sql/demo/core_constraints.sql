-- what:   the constraints the demo adds after loading its data, as an outage and the appointment-key mix-up left
--         them: appointments_patient_id_fkey pointing at patients(id) (wrong column), and the
--         prescriptions and medications foreign keys, all NOT VALID because rows written during
--         the outage point nowhere. prescriptions.appointment_id and doctors.user_id have no index.
-- store:  core (demo only)
-- params: none
ALTER TABLE appointments ADD CONSTRAINT appointments_patient_id_fkey
    FOREIGN KEY (patient_id) REFERENCES patients (id) NOT VALID;
ALTER TABLE prescriptions ADD CONSTRAINT prescriptions_appointment_id_fkey
    FOREIGN KEY (appointment_id) REFERENCES appointments (id) NOT VALID;
ALTER TABLE medications ADD CONSTRAINT medications_patient_id_fkey
    FOREIGN KEY (patient_id) REFERENCES patients (id) NOT VALID;
ALTER TABLE medications ADD CONSTRAINT medications_document_id_fkey
    FOREIGN KEY (document_id) REFERENCES documents (id) NOT VALID;
