-- id:         remap_appointment_patient_ids
-- title:      Remap appointments that carry a patients.id to the patient's user_id
-- what:       The appointment-key mix-up: appointments.patient_id must hold the patient's users.id (the key
--             references patients(user_id)), but some rows carry the patients.id. Each such row
--             gets that patient's user_id. A foreign key from appointments(patient_id) to
--             patients(id) (the wrong target, still enforced on updates even when NOT VALID)
--             would reject the very update, so it is dropped first; appointments_patient_fk
--             recreates the right one.
-- store:      core
-- resolves:   orphan.appointments_patient
-- blocked_by: none
-- verify:     none (the post query below: no appointment carries a patients.id any more)
-- affects:    constraint.mismatch, constraint.not_valid, constraint.missing
-- risk:       medium: appointments_patient_id_fkey, if it points at patients(id), is gone until
--             appointments_patient_fk runs (archive_orphan_rows in between). Appointments that
--             point nowhere are left for archive_orphan_rows. Row locks, plus a short ACCESS
--             EXCLUSIVE lock on appointments when the wrong key is dropped.
-- params:     none

-- step: drop a foreign key from appointments(patient_id) to patients(id), the appointment-key mix-up's wrong target
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT con.conname
        FROM pg_constraint con
        WHERE con.conrelid = 'public.appointments'::regclass
          AND con.contype = 'f'
          AND con.confrelid = 'public.patients'::regclass
          AND con.conkey = ARRAY[(SELECT attnum FROM pg_attribute
                                  WHERE attrelid = 'public.appointments'::regclass AND attname = 'patient_id')]
          AND con.confkey = ARRAY[(SELECT attnum FROM pg_attribute
                                   WHERE attrelid = 'public.patients'::regclass AND attname = 'id')]
    LOOP
        EXECUTE format('ALTER TABLE public.appointments DROP CONSTRAINT %I', c.conname);
    END LOOP;
END
$$

-- step: give each appointment that carries a patients.id that patient's user_id
UPDATE public.appointments a
SET patient_id = p.user_id
FROM public.patients p
WHERE p.id = a.patient_id
  AND NOT EXISTS (SELECT 1 FROM public.patients u WHERE u.user_id = a.patient_id)
RETURNING a.id::text AS key, p.id::text AS was_patients_id, p.user_id::text AS now_user_id

-- post: appointments that still carry a patients.id instead of a user_id
SELECT a.id::text AS key
FROM public.appointments a
JOIN public.patients p ON p.id = a.patient_id
WHERE NOT EXISTS (SELECT 1 FROM public.patients u WHERE u.user_id = a.patient_id)
