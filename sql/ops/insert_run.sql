-- what:   record one check run (its results follow in check_results)
-- store:  ops
-- params: :started_at, :finished_at, :source, :generated, :demo, :stores (json text)
INSERT INTO check_runs (started_at, finished_at, source, generated, demo, stores)
VALUES (:started_at, :finished_at, :source, :generated, :demo, CAST(:stores AS jsonb))
RETURNING id
