-- id:         patient_foreign_keys
-- title:      Add fk_documents_patient and fk_session_notes_patient
-- what:       The deleted-patient outage's keys: documents.patient_id and session_notes.patient_id → patients(id)
--             ON DELETE CASCADE, each added NOT VALID and then validated (a key of that name that
--             stands otherwise is dropped and added again).
-- store:      core
-- resolves:   constraint.missing, constraint.mismatch, constraint.not_valid
-- blocked_by: orphan.documents_patient, orphan.session_notes_patient
-- verify:     constraint.missing[core.documents.fk_documents_patient],
--             constraint.missing[core.session_notes.fk_session_notes_patient],
--             constraint.mismatch[core.documents.fk_documents_patient],
--             constraint.mismatch[core.session_notes.fk_session_notes_patient],
--             constraint.not_valid[core.documents.fk_documents_patient],
--             constraint.not_valid[core.session_notes.fk_session_notes_patient]
-- affects:    none
-- risk:       low once both orphan counts are 0: SHARE ROW EXCLUSIVE locks on documents,
--             session_notes and patients until commit; validation scans both tables once. Both
--             tables already have an index on patient_id.
-- params:     none

-- step: drop fk_documents_patient if it stands otherwise
ALTER TABLE public.documents DROP CONSTRAINT IF EXISTS fk_documents_patient

-- step: add fk_documents_patient, NOT VALID (no scan yet)
ALTER TABLE public.documents
    ADD CONSTRAINT fk_documents_patient
    FOREIGN KEY (patient_id) REFERENCES public.patients (id) ON DELETE CASCADE NOT VALID

-- step: validate fk_documents_patient
ALTER TABLE public.documents VALIDATE CONSTRAINT fk_documents_patient

-- step: drop fk_session_notes_patient if it stands otherwise
ALTER TABLE public.session_notes DROP CONSTRAINT IF EXISTS fk_session_notes_patient

-- step: add fk_session_notes_patient, NOT VALID (no scan yet)
ALTER TABLE public.session_notes
    ADD CONSTRAINT fk_session_notes_patient
    FOREIGN KEY (patient_id) REFERENCES public.patients (id) ON DELETE CASCADE NOT VALID

-- step: validate fk_session_notes_patient
ALTER TABLE public.session_notes VALIDATE CONSTRAINT fk_session_notes_patient
