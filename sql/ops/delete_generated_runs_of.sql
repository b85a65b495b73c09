-- what:   remove the generated runs one writer saved (source :source; their results go with them)
--         before it writes them again; every other run stays
-- store:  ops
-- params: :source (text)
DELETE FROM check_runs WHERE generated AND source = :source
