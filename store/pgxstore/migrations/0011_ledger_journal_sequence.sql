-- Writes take the journal's sequence numbers from its identity sequence by
-- name, resolved once when a statement is prepared, instead of looking the
-- sequence up at every call. PostgreSQL named it allot_transfers_seq_seq
-- when 0001 created the table, unless a relation already had that name;
-- such a sequence is renamed here.
DO $$
DECLARE
	seq regclass := pg_get_serial_sequence('allot_transfers', 'seq')::regclass;
BEGIN
	IF (SELECT relname FROM pg_class WHERE oid = seq) <> 'allot_transfers_seq_seq' THEN
		EXECUTE format('ALTER SEQUENCE %s RENAME TO allot_transfers_seq_seq', seq);
	END IF;
END
$$;
