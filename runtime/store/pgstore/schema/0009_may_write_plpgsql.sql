-- Schema 9: may_write in PL/pgSQL. As an SQL function that the planner
-- cannot inline, its body was planned again in every statement that called
-- it — every append, watch, state change and finish — which cost more than
-- the rest of the append; PL/pgSQL keeps its plan for the session. It says
-- the same: 'ok' (the member at p_epoch owns the activation, or nobody
-- does), 'fenced', 'done', 'missing'; and, being STABLE, reads with the
-- snapshot of the statement that calls it, as before.
CREATE OR REPLACE FUNCTION may_write(p_act bytea, p_member bigint, p_epoch bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	st smallint;
	o bigint;
	oe bigint;
BEGIN
	SELECT a.state, a.owner, a.owner_epoch INTO st, o, oe FROM activations a WHERE a.id = p_act;
	IF NOT FOUND THEN
		RETURN 'missing';
	END IF;
	IF st = 4 THEN
		RETURN 'done';
	END IF;
	IF o IS NULL OR (o = p_member AND oe = p_epoch) THEN
		RETURN 'ok';
	END IF;
	RETURN 'fenced';
END $$;
