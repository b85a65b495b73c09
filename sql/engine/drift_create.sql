-- what:   the empty table drift (sync.field_drift's rows), filled pass by pass by drift.sql
-- store:  engine (DuckDB, lib.checks.engine)
-- params: none
CREATE OR REPLACE TABLE drift (
    uid VARCHAR, field VARCHAR, store_a VARCHAR, store_b VARCHAR, value_a VARCHAR, value_b VARCHAR,
    oa INTEGER, ob INTEGER
)
