-- what:   the uids sync.drift_rows compares when it is given some (the patient page): table drift_uids's
--         (table drift_wanted)
-- store:  engine (DuckDB, lib.checks.engine)
-- params: none
CREATE OR REPLACE TABLE drift_wanted AS
SELECT DISTINCT uid FROM drift_uids WHERE uid IS NOT NULL
