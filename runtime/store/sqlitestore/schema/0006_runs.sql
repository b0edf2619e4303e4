-- Schema 6: runs. An activation that continues as new starts its next run
-- with new arguments and an empty log; run counts them, from 0, and
-- run_args are the current run's arguments after the first (args stay those
-- it was started with).
ALTER TABLE activations ADD COLUMN run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE activations ADD COLUMN run_args BLOB;
