-- what:   the fix runner's limits for the rest of its transaction (SET LOCAL): how long a
--         statement may wait for a lock, and how long it may run
-- store:  core, supabase (the fix's own transaction)
-- params: :lock_timeout_ms (text, milliseconds), :statement_timeout_ms (text, milliseconds)
SELECT set_config('lock_timeout', :lock_timeout_ms, true),
       set_config('statement_timeout', :statement_timeout_ms, true)
