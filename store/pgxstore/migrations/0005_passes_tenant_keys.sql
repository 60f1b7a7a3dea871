-- The passes facet keys every record a workspace owns by the workspace:
-- sessions by (workspace, id) and guests' access windows by (workspace,
-- session_id, guest), as custom fields and usage rows already are. Two
-- workspaces may then use one session ID, and neither learns that the other
-- does.

-- Sessions: the primary key becomes (workspace, id), which also serves the
-- lookups the index on (workspace, id) served.
ALTER TABLE allot_pass_sessions DROP CONSTRAINT allot_pass_sessions_pkey;
ALTER TABLE allot_pass_sessions ADD CONSTRAINT allot_pass_sessions_pkey PRIMARY KEY (workspace, id);
DROP INDEX allot_pass_sessions_workspace;

-- Access windows take the workspace of their session. A row whose session
-- does not exist was never reachable (a login finds the session first) and
-- has no workspace to go to: it is dropped.
ALTER TABLE allot_pass_access ADD COLUMN workspace text COLLATE "C";
UPDATE allot_pass_access a SET workspace = s.workspace
	FROM allot_pass_sessions s WHERE s.id = a.session_id;
DELETE FROM allot_pass_access WHERE workspace IS NULL;
ALTER TABLE allot_pass_access ALTER COLUMN workspace SET NOT NULL;
ALTER TABLE allot_pass_access DROP CONSTRAINT allot_pass_access_pkey;
ALTER TABLE allot_pass_access ADD CONSTRAINT allot_pass_access_pkey PRIMARY KEY (workspace, session_id, guest);
