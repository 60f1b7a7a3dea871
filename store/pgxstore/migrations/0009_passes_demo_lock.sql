-- A demo session's lock is announced once: the first refused login that
-- finds the session locked writes its PassesDemoLocked event and, in the
-- same transaction, marks the session with the lock's instant here. Later
-- refusals find the mark and write no second event. NULL: no lock marked.
ALTER TABLE allot_pass_sessions ADD COLUMN demo_lock_noticed timestamptz;
