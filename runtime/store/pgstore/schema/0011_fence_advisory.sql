-- Schema 11: the fence is an advisory lock.
--
-- A transaction that writes about activations used to lock its member's row
-- FOR KEY SHARE. PostgreSQL writes a row lock into the row itself, so each
-- of those transactions also wrote the members table: a WAL record and a
-- dirtied page, a quarter of a lone step's time. Now it takes its member's
-- advisory lock, shared, and then reads the row; whatever fences a member
-- takes the same lock exclusively before it bumps the epoch. A takeover
-- still waits for the member's transaction in flight, and a transaction
-- that begins after the takeover waits for it to commit and then reads the
-- bumped epoch, because in READ COMMITTED each statement of a function reads
-- with a snapshot of its own, taken once the lock is held. The lock lives in
-- the server's lock table and is never written to disk. Under a stricter
-- isolation the transaction's snapshot can be older than the lock, so there
-- the fence locks the row as before.
--
-- A session that dies releases its advisory locks with its transaction, as
-- it did its row locks; reap skips a member whose lock it cannot take, and
-- reports it as stuck once its lease has lapsed long enough.

-- member_key is the advisory lock of a member of the store in this schema.
-- The schema's name is written into it when it is made, so every session
-- finds the same lock whatever its search_path.
DO $$
BEGIN
	EXECUTE format('CREATE FUNCTION member_key(p_member bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS %L',
		format('SELECT hashtextextended(%L, p_member)', 'asyncflow member of ' || current_schema()));
END $$;

CREATE OR REPLACE FUNCTION fence(p_member bigint, p_epoch bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('transaction_isolation') = 'read committed' THEN
		PERFORM pg_advisory_xact_lock_shared(member_key(p_member));
		PERFORM 1 FROM members WHERE id = p_member AND epoch = p_epoch AND left_at IS NULL;
	ELSE
		PERFORM 1 FROM members WHERE id = p_member AND epoch = p_epoch AND left_at IS NULL FOR KEY SHARE;
	END IF;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'AF101', MESSAGE = 'store member ' || p_member || ' was fenced: its lease lapsed and was taken over';
	END IF;
END $$;

-- claim fences a lapsed owner under its advisory lock, taken before its row
-- is locked; otherwise as in schema 6.
CREATE OR REPLACE FUNCTION claim(p_act bytea, p_member bigint, p_epoch bigint, p_build text, p_retry boolean) RETURNS text
LANGUAGE plpgsql SET lock_timeout = '5s' AS $$
DECLARE
	a record;
	b record;
	m record;
BEGIN
	PERFORM fence(p_member, p_epoch);
	SELECT x.state, x.owner, x.owner_epoch INTO a FROM activations x WHERE x.id = p_act;
	IF NOT FOUND THEN
		RETURN 'missing';
	END IF;
	IF a.state = 4 THEN
		RETURN 'done';
	END IF;
	IF a.owner = p_member AND a.owner_epoch = p_epoch THEN
		RETURN 'mine';
	END IF;
	IF a.owner IS NOT NULL AND a.owner <> p_member THEN
		SELECT y.epoch, y.expires_at, y.left_at INTO m FROM members y WHERE y.id = a.owner;
		IF FOUND AND m.epoch = a.owner_epoch AND m.left_at IS NULL THEN
			IF m.expires_at > now() THEN
				RETURN 'owned';
			END IF;
			-- Its lease lapsed: fence it, once its transaction in flight is
			-- done.
			PERFORM pg_advisory_xact_lock(member_key(a.owner));
			SELECT y.epoch, y.expires_at, y.left_at INTO m FROM members y WHERE y.id = a.owner FOR UPDATE;
			IF m.epoch = a.owner_epoch AND m.left_at IS NULL THEN
				IF m.expires_at > now() THEN
					RETURN 'owned';
				END IF;
				UPDATE members SET epoch = epoch + 1, lapsed = true WHERE id = a.owner;
			END IF;
		END IF;
	END IF;
	SELECT x.state, x.owner, x.owner_epoch INTO b FROM activations x WHERE x.id = p_act FOR UPDATE;
	IF b.state = 4 THEN
		RETURN 'done';
	END IF;
	IF b.owner IS DISTINCT FROM a.owner OR b.owner_epoch IS DISTINCT FROM a.owner_epoch THEN
		RETURN 'owned'; -- another claim came first
	END IF;
	IF p_retry THEN
		DELETE FROM failures WHERE act = p_act AND build = p_build;
	ELSIF EXISTS (SELECT 1 FROM failures WHERE act = p_act AND build = p_build) THEN
		RETURN 'failed';
	END IF;
	UPDATE activations SET owner = p_member, owner_epoch = p_epoch WHERE id = p_act;
	RETURN 'mine';
END $$;

-- reap fences the members whose lease lapsed. A member whose advisory lock
-- (or row) is held has a transaction on its way: it is skipped, and returned in
-- stuck if its lease lapsed more than p_grace_ms ago, so that its sessions
-- can be ended. Members gone for a day that own nothing are deleted.
CREATE OR REPLACE FUNCTION reap(p_grace_ms bigint, OUT fenced int, OUT stuck bigint[])
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	fenced := 0;
	FOR r IN SELECT id FROM members WHERE left_at IS NULL AND NOT lapsed AND expires_at < now() ORDER BY id FOR UPDATE SKIP LOCKED LOOP
		-- The row lock passes by a member fenced the old way (its
		-- transaction under a stricter isolation), the advisory lock one
		-- fenced the new.
		CONTINUE WHEN NOT pg_try_advisory_xact_lock(member_key(r.id));
		UPDATE members SET epoch = epoch + 1, lapsed = true
			WHERE id = r.id AND left_at IS NULL AND NOT lapsed AND expires_at < now();
		IF FOUND THEN
			fenced := fenced + 1;
		END IF;
	END LOOP;
	SELECT array_agg(id) INTO stuck FROM members
		WHERE left_at IS NULL AND NOT lapsed AND expires_at < now() - p_grace_ms * interval '1 millisecond';
	DELETE FROM members m
		WHERE (m.left_at < now() - interval '1 day' OR (m.lapsed AND m.expires_at < now() - interval '1 day'))
		AND NOT EXISTS (SELECT 1 FROM activations a WHERE a.owner = m.id);
END $$;

-- append_log is append_entries in one statement with the transaction's
-- fence, when p_fence is set (a lone step's transaction is that one
-- statement), and checks the activations with one join instead of a
-- function call for each.
CREATE FUNCTION append_log(p_fence boolean, p_member bigint, p_epoch bigint, p_acts bytea[], p_steps bigint[], p_kinds int[], p_gens bigint[], p_ats bigint[], p_payloads bytea[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	bad record;
BEGIN
	IF p_fence THEN
		PERFORM fence(p_member, p_epoch);
	END IF;
	SELECT u.act, CASE WHEN a.id IS NULL THEN 'missing' WHEN a.state = 4 THEN 'done' ELSE 'fenced' END AS why INTO bad
		FROM unnest(p_acts) u (act) LEFT JOIN activations a ON a.id = u.act
		WHERE a.id IS NULL OR a.state = 4 OR (a.owner IS NOT NULL AND (a.owner <> p_member OR a.owner_epoch <> p_epoch))
		LIMIT 1;
	IF FOUND THEN
		IF bad.why = 'missing' THEN
			RAISE EXCEPTION USING ERRCODE = 'AF103', MESSAGE = 'no activation ' || encode(bad.act, 'hex');
		END IF;
		PERFORM not_yours(bad.act, bad.why);
	END IF;
	INSERT INTO entries (act, step, kind, gen, at_ns, payload)
		SELECT * FROM unnest(p_acts, p_steps, p_kinds, p_gens, p_ats, p_payloads);
END $$;

-- refuse_append raises the error of an append the store refuses: its
-- member fenced (AF101), or its activation missing (AF103), done or
-- another's (AF102). The store's statement for a lone append is plain SQL,
-- which calls it only to fail.
CREATE FUNCTION refuse_append(p_why text, p_member bigint, p_epoch bigint, p_act bytea) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	why text;
BEGIN
	IF p_why = 'member' THEN
		RAISE EXCEPTION USING ERRCODE = 'AF101', MESSAGE = 'store member ' || p_member || ' was fenced: its lease lapsed and was taken over';
	END IF;
	why := may_write(p_act, p_member, p_epoch);
	IF why = 'missing' THEN
		RAISE EXCEPTION USING ERRCODE = 'AF103', MESSAGE = 'no activation ' || encode(p_act, 'hex');
	END IF;
	PERFORM not_yours(p_act, why);
	RETURN false;
END $$;
