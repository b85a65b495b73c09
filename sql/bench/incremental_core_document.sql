-- what:   a new core document of a patient, created now
-- store:  core (benchmark harness and tests only)
-- params: :id, :patient_id, :url
INSERT INTO documents (id, patient_id, type, file_url, ocr_confidence, created_at)
VALUES (CAST(:id AS uuid), CAST(:patient_id AS uuid), 'lab_report', :url, 0.9, now())
