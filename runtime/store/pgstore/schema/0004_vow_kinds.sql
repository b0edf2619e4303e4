-- Schema 4: what may settle a vow. kind: 0 a vow made for the host, which
-- settles it; 1 an activation's outcome, settled when the activation
-- finishes; 2 a durable timer, settled when its deadline passes. Vows
-- written before are sorted out by what refers to them: every outcome is an
-- activation's, and a timer still to fire has its row.
ALTER TABLE vows ADD COLUMN kind smallint NOT NULL DEFAULT 0;
UPDATE vows SET kind = 1 WHERE id IN (SELECT outcome FROM activations);
UPDATE vows SET kind = 2 WHERE id IN (SELECT vow FROM timers);

-- create_activation marks the outcome vow it creates.
CREATE OR REPLACE FUNCTION create_activation(p_id bytea, p_flow text, p_key text, p_args bytea, p_outcome bytea, p_gen bigint, p_at bigint)
RETURNS TABLE (act_id bytea, flow text, start_key text, args bytea, state smallint, outcome bytea, created_gen bigint, gen bigint, failure bytea,
	created_ns bigint, state_ns bigint, finished_ns bigint, last_at bigint, last_gen bigint)
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO activations AS a (id, flow, start_key, args, state, outcome, created_gen, gen, created_ns, state_ns)
		VALUES (p_id, p_flow, p_key, p_args, 1, p_outcome, p_gen, p_gen, p_at, p_at)
		ON CONFLICT (id) DO NOTHING;
	IF FOUND THEN
		INSERT INTO vows (id, kind, state, gen) VALUES (p_outcome, 1, 0, p_gen);
		RETURN;
	END IF;
	RETURN QUERY SELECT * FROM activation_row(p_id);
END $$;

-- settle_vow is a SettleVow: settle, except that with p_host_only a vow
-- that is not the host's is left as it is. kind is the vow's kind.
CREATE FUNCTION settle_vow(p_id bytea, p_state smallint, p_payload bytea, p_gen bigint, p_at bigint, p_host_only boolean,
	OUT settled boolean, OUT missing boolean, OUT kind smallint, OUT waiters bytea[])
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	SELECT v.kind INTO kind FROM vows v WHERE v.id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		settled := false;
		missing := true;
		kind := 0;
		RETURN;
	END IF;
	IF p_host_only AND kind <> 0 THEN
		settled := false;
		missing := false;
		RETURN;
	END IF;
	SELECT * INTO r FROM settle(p_id, p_state, p_payload, p_gen, p_at);
	settled := r.settled;
	missing := r.missing;
	waiters := r.waiters;
END $$;
