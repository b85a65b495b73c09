-- id:         appointments_patient_fk
-- title:      Recreate appointments_patient_id_fkey → patients(user_id) ON DELETE CASCADE
-- what:       The appointment-key mix-up's schema fix: drops appointments_patient_id_fkey whatever it points at and
--             adds it again referencing patients(user_id) ON DELETE CASCADE, NOT VALID first and
--             then validated.
-- store:      core
-- resolves:   constraint.mismatch, constraint.missing, constraint.not_valid
-- blocked_by: orphan.appointments_patient
-- verify:     constraint.mismatch[core.appointments.appointments_patient_id_fkey],
--             constraint.missing[core.appointments.appointments_patient_id_fkey],
--             constraint.not_valid[core.appointments.appointments_patient_id_fkey]
-- affects:    none
-- risk:       low once orphan.appointments_patient is 0: adding the key takes a SHARE ROW
--             EXCLUSIVE lock on appointments and patients until commit (lock_timeout bounds the
--             wait); validation scans appointments once.
-- params:     none

-- step: drop the key, whatever it points at
ALTER TABLE public.appointments DROP CONSTRAINT IF EXISTS appointments_patient_id_fkey

-- step: add it referencing patients(user_id) ON DELETE CASCADE, NOT VALID (no scan yet)
ALTER TABLE public.appointments
    ADD CONSTRAINT appointments_patient_id_fkey
    FOREIGN KEY (patient_id) REFERENCES public.patients (user_id) ON DELETE CASCADE NOT VALID

-- step: validate it against every existing appointment
ALTER TABLE public.appointments VALIDATE CONSTRAINT appointments_patient_id_fkey
