-- Schema 3: what may settle a vow. kind: 0 a vow made for the host, which
-- settles it; 1 an activation's outcome, settled when the activation
-- finishes; 2 a durable timer, settled when its deadline passes. Vows
-- written before are sorted out by what refers to them: every outcome is an
-- activation's, and a timer still to fire has its row.
ALTER TABLE vows ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;
UPDATE vows SET kind = 1 WHERE id IN (SELECT outcome FROM activations);
UPDATE vows SET kind = 2 WHERE id IN (SELECT vow FROM timers);
