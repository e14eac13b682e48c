-- Tasker schema, version 13: a work claim steps over the tasks whose claimable steps are other handlers' (issue 13).
-- Up to version 12 the find (WorkSql.ClaimReadyTasks) read the steps of every task on its walk, and the walk covers
-- every claimable task of a definition that names one of the claimer's handlers: with one template whose steps run in
-- several languages, a Python worker read the steps of every order waiting for Ruby's payment, about 12 µs an order on
-- every claim (62 ms with 5,000 waiting: bench/python/cross_language_walk.py).
-- work_mask summarizes the handlers of a task's claimable steps (ready, waiting for a retry, or running under a lease
-- that may expire), one bit per handler name (Work/HandlerMask.cs: its FNV-1a hash modulo 64), written with every task
-- write. The walk's probe tests it against the claimer's handlers on the row it already visits: a task with no bit in
-- common is passed without reading its steps. Two names may share a bit: a match is only a maybe, and the find still
-- checks the steps. No index refers to either column, so task writes stay as HOT as before.
-- A process still on an older library during a rolling upgrade does not write the mask. work_mask_version is the
-- row_version the mask was written with: a row whose version moved past it (an older process wrote it) matches every
-- claimer, as before this version; so do rows inserted without it (the default, every bit set) and the rows already
-- here. ADD COLUMN with a constant default rewrites nothing (each takes the table's exclusive lock for a moment, after
-- the transactions that use it end).

ALTER TABLE tasker_tasks ADD COLUMN work_mask bigint NOT NULL DEFAULT -1;
ALTER TABLE tasker_tasks ADD COLUMN work_mask_version bigint;
