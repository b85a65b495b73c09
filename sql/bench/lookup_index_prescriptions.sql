-- what:   the recommended lookup index the demo leaves out on purpose (its planted
--         advisor.unindexed_foreign_key): prescriptions by appointment_id, which the patient view
--         reads (sql/core/patient_prescriptions.sql). The benchmark's deployment has every
--         recommended lookup index (lib.patient.indexes), so its expected counts lack that finding
-- store:  core (benchmark builder only)
-- params: none
CREATE INDEX IF NOT EXISTS prescriptions_appointment_id_idx ON prescriptions (appointment_id);
