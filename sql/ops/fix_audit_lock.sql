-- what:   the attempt's session advisory lock, taken by the applying process's own ops connection
--         in the transaction that writes the start row and held until the attempt ended: while it
--         is held the attempt runs; once its process died the server released it (abandoned)
-- store:  ops
-- params: :namespace (int) the attempt locks' namespace, :id (bigint) the start row's id
SELECT pg_advisory_lock(CAST(:namespace AS integer), CAST(CAST(:id AS bigint) % 2147483648 AS integer))
