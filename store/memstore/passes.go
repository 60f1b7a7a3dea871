package memstore

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/passes"
)

// passesTables are the passes facet's records.
type passesTables struct {
	sessions map[sessionKey]*passes.Session
	fields   map[string][]passes.FieldDef     // by workspace, ordered by Position
	access   map[sessionKey]map[string]window // by workspace and session, then guest
	usage    map[string]*usageLog             // by workspace, ordered by Seq

	seq int64 // the last Seq given

	// demoLocks are the sessions' demo lock marks (SessionDemoLockMark):
	// the last lock instant marked, by workspace and session.
	demoLocks map[sessionKey]micros

	// hot is the undo log of the running transaction's writes to access
	// windows and usage rows, the records every login writes: typed entries
	// in memory reused from one transaction to the next, rather than a
	// closure each. The other passes records have their closures in the
	// transaction's undo list; no undo touches another's records, so the
	// order between the two does not matter.
	hot []hotUndo

	// A login looks up its request and its guest's window, and inserts what
	// it did not find. These are the request and the window a transaction
	// last looked up in vain: its insert of that same record needs no second
	// lookup, on the store's largest maps, to know the record is new.
	missedRequest missedKey // workspace, request ID
	missedWindow  missedKey // workspace, session, guest
}

// sessionKey is a session's key: its workspace and its ID. Every record a
// workspace owns is keyed by the workspace, so two workspaces may use one ID.
type sessionKey struct{ org, id string }

type missedKey struct {
	tx        *Tx
	org, s, k string
}

func (m missedKey) is(t *Tx, org, s, k string) bool {
	return m.tx == t && m.org == org && m.s == s && m.k == k
}

// window is an access window as the store keeps it, under its session and
// guest.
type window struct{ start, until micros }

// micros is a time as the passes facet keeps it: a UTC instant in whole
// microseconds, the precision every store keeps, counted from the Unix epoch.
// It takes a third of a time.Time on the records that grow with every login,
// and the zero time.Time survives the round trip. Times read back are in UTC.
type micros int64

func toMicros(t time.Time) micros { return micros(t.UnixMicro()) }

func (m micros) time() time.Time { return time.UnixMicro(int64(m)).UTC() }

func newPassesTables() passesTables {
	return passesTables{
		sessions: make(map[sessionKey]*passes.Session),
		fields:   make(map[string][]passes.FieldDef),
		access:   make(map[sessionKey]map[string]window),
		usage:    make(map[string]*usageLog),

		demoLocks: make(map[sessionKey]micros),
	}
}

var _ passes.Tx = (*Tx)(nil)

// Lookups that miss on every first login return these shared errors rather
// than build one each time: the passes service asks for records that do not
// exist yet on its hot path.
var (
	errAccessNotFound  error = &ledger.NotFoundError{Kind: "access window", ID: "(workspace, session, guest)"}
	errRequestNotFound error = &ledger.NotFoundError{Kind: "login request", ID: "(workspace, request ID)"}
)

// Passes returns the passes facet of the store.
func (s *Store) Passes() passes.Store { return passesStore{s} }

type passesStore struct{ s *Store }

// InTx implements passes.Store.
func (p passesStore) InTx(ctx context.Context, fn func(tx passes.Tx) error) error {
	return p.s.inTx(ctx, func(t *Tx) error { return fn(t) })
}

func copySession(s passes.Session) passes.Session {
	s.Fields = cloneFields(s.Fields)
	return s
}

// storedSession is s as the store keeps it: a copy, with its times as every
// time of the facet is kept (see micros).
func storedSession(s passes.Session) passes.Session {
	s = copySession(s)
	s.CreatedAt, s.FirstLogin = toMicros(s.CreatedAt).time(), toMicros(s.FirstLogin).time()
	return s
}

func cloneFields(fs []passes.FieldValue) []passes.FieldValue {
	if len(fs) == 0 {
		return nil
	}
	return slices.Clone(fs)
}

// SessionInsert implements passes.Tx.
func (t *Tx) SessionInsert(ctx context.Context, s passes.Session) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	tb := &t.s.passes
	k := sessionKey{s.Org, s.ID}
	if _, ok := tb.sessions[k]; ok {
		return fmt.Errorf("memstore: session %q of workspace %q: %w", s.ID, s.Org, ledger.ErrAlreadyExists)
	}
	c := storedSession(s)
	tb.sessions[k] = &c
	t.undo = append(t.undo, func() { delete(tb.sessions, k) })
	return nil
}

// SessionGet implements passes.Tx.
func (t *Tx) SessionGet(ctx context.Context, org, id string) (passes.Session, error) {
	if err := t.check(ctx); err != nil {
		return passes.Session{}, err
	}
	s, ok := t.s.passes.sessions[sessionKey{org, id}]
	if !ok {
		return passes.Session{}, &ledger.NotFoundError{Kind: "session", ID: id}
	}
	return copySession(*s), nil
}

// SessionUpdate implements passes.Tx.
func (t *Tx) SessionUpdate(ctx context.Context, s passes.Session) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	cur, ok := t.s.passes.sessions[sessionKey{s.Org, s.ID}]
	if !ok {
		return &ledger.NotFoundError{Kind: "session", ID: s.ID}
	}
	old := *cur
	*cur = storedSession(s)
	t.undo = append(t.undo, func() { *cur = old })
	return nil
}

// SessionList implements passes.Tx. It scans and sorts every session of
// the store on each call: listing sessions is an administrator's read, not
// a login's.
func (t *Tx) SessionList(ctx context.Context, p passes.SessionListParams) ([]passes.Session, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	var out []passes.Session
	for k, s := range t.s.passes.sessions {
		if k.org == p.Org && k.id > p.AfterID {
			out = append(out, *s)
		}
	}
	slices.SortFunc(out, func(a, b passes.Session) int { return strings.Compare(a.ID, b.ID) })
	if p.Limit > 0 && len(out) > p.Limit {
		out = out[:p.Limit]
	}
	for i := range out {
		out[i] = copySession(out[i])
	}
	return out, nil
}

// FieldInsert implements passes.Tx.
func (t *Tx) FieldInsert(ctx context.Context, f passes.FieldDef) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	tb := &t.s.passes
	old := tb.fields[f.Org]
	for _, g := range old {
		if g.Name == f.Name || g.Position == f.Position {
			return fmt.Errorf("memstore: custom field %q (position %d) of workspace %q: %w", f.Name, f.Position, f.Org, ledger.ErrAlreadyExists)
		}
	}
	next := slices.Clone(old)
	next = append(next, f)
	slices.SortFunc(next, func(a, b passes.FieldDef) int { return a.Position - b.Position })
	tb.fields[f.Org] = next
	t.undo = append(t.undo, func() {
		if old == nil {
			delete(tb.fields, f.Org)
		} else {
			tb.fields[f.Org] = old
		}
	})
	return nil
}

// FieldList implements passes.Tx.
func (t *Tx) FieldList(ctx context.Context, org string) ([]passes.FieldDef, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	fs := t.s.passes.fields[org]
	if len(fs) == 0 {
		return nil, nil
	}
	return slices.Clone(fs), nil
}

// FieldsLock implements passes.Tx. The store's single lock already excludes
// every other transaction.
func (t *Tx) FieldsLock(ctx context.Context, org string) ([]passes.FieldDef, error) {
	return t.FieldList(ctx, org)
}

// AccessLock implements passes.Tx. The store's single lock already excludes
// every other transaction.
func (t *Tx) AccessLock(ctx context.Context, org, session, guest string) (passes.Access, error) {
	if err := t.check(ctx); err != nil {
		return passes.Access{}, err
	}
	a, ok := t.accessWindow(org, session, guest)
	if !ok {
		return passes.Access{}, errAccessNotFound
	}
	return a, nil
}

// accessWindow finds a guest's window, recording a miss for the
// AccessInsert that may follow.
func (t *Tx) accessWindow(org, session, guest string) (passes.Access, bool) {
	w, ok := t.s.passes.access[sessionKey{org, session}][guest]
	if !ok {
		t.s.passes.missedWindow = missedKey{t, org, session, guest}
		return passes.Access{}, false
	}
	return passes.Access{Org: org, Session: session, Guest: guest, Start: w.start.time(), Until: w.until.time()}, true
}

// AccessList implements passes.Tx. It sorts the workspace's windows on every
// call: the audit reads them, not logins.
func (t *Tx) AccessList(ctx context.Context, p passes.AccessListParams) ([]passes.Access, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	var out []passes.Access
	for k, guests := range t.s.passes.access {
		if k.org != p.Org || k.id < p.AfterSession {
			continue
		}
		for g, w := range guests {
			if k.id == p.AfterSession && g <= p.AfterGuest {
				continue
			}
			out = append(out, passes.Access{Org: k.org, Session: k.id, Guest: g, Start: w.start.time(), Until: w.until.time()})
		}
	}
	slices.SortFunc(out, func(a, b passes.Access) int {
		if c := strings.Compare(a.Session, b.Session); c != 0 {
			return c
		}
		return strings.Compare(a.Guest, b.Guest)
	})
	if p.Limit > 0 && len(out) > p.Limit {
		out = out[:p.Limit]
	}
	return out, nil
}

// AccessInsert implements passes.Tx.
func (t *Tx) AccessInsert(ctx context.Context, a passes.Access) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	tb := &t.s.passes
	k := sessionKey{a.Org, a.Session}
	guests := tb.access[k]
	if !tb.missedWindow.is(t, a.Org, a.Session, a.Guest) {
		if _, ok := guests[a.Guest]; ok {
			return fmt.Errorf("memstore: access of %q to session %q of workspace %q: %w", a.Guest, a.Session, a.Org, ledger.ErrAlreadyExists)
		}
	}
	tb.missedWindow = missedKey{}
	if guests == nil {
		guests = make(map[string]window)
		tb.access[k] = guests
	}
	guests[a.Guest] = window{toMicros(a.Start), toMicros(a.Until)}
	t.logHot(hotUndo{session: k, key: a.Guest})
	return nil
}

// AccessUpdate implements passes.Tx.
func (t *Tx) AccessUpdate(ctx context.Context, a passes.Access) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	k := sessionKey{a.Org, a.Session}
	guests := t.s.passes.access[k]
	old, ok := guests[a.Guest]
	if !ok {
		return &ledger.NotFoundError{Kind: "access", ID: a.Org + " " + a.Session + " " + a.Guest}
	}
	guests[a.Guest] = window{toMicros(a.Start), toMicros(a.Until)}
	t.logHot(hotUndo{session: k, key: a.Guest, old: old, existed: true})
	return nil
}

// UsageInsert implements passes.Tx.
func (t *Tx) UsageInsert(ctx context.Context, u passes.Usage) (int64, error) {
	if err := t.check(ctx); err != nil {
		return 0, err
	}
	tb := &t.s.passes
	log := tb.usage[u.Org]
	if log == nil {
		log = &usageLog{ix: newIndex(), shared: make(map[string]*usageShared)}
		tb.usage[u.Org] = log
	}
	if !tb.missedRequest.is(t, u.Org, "", u.RequestID) {
		if _, ok := log.find(u.RequestID); ok {
			return 0, fmt.Errorf("memstore: usage row of request %q in workspace %q: %w", u.RequestID, u.Org, ledger.ErrAlreadyExists)
		}
	}
	tb.missedRequest = missedKey{}
	tb.seq++
	log.ix.add(u.RequestID, log.n)
	log.append(tb.seq, &u)
	t.logHot(hotUndo{log: log, key: u.RequestID})
	return tb.seq, nil
}

// UsageAppend implements passes.Tx: UsageInsert, the Seq dropped.
func (t *Tx) UsageAppend(ctx context.Context, u passes.Usage) error {
	_, err := t.UsageInsert(ctx, u)
	return err
}

// UsageGetByRequest implements passes.Tx.
func (t *Tx) UsageGetByRequest(ctx context.Context, org, requestID string) (passes.Usage, error) {
	if err := t.check(ctx); err != nil {
		return passes.Usage{}, err
	}
	u, ok := t.usageByRequest(org, requestID)
	if !ok {
		return passes.Usage{}, errRequestNotFound
	}
	return u, nil
}

// usageByRequest finds the usage row of a request, recording a miss for
// the UsageInsert that may follow.
func (t *Tx) usageByRequest(org, requestID string) (passes.Usage, bool) {
	if log := t.s.passes.usage[org]; log != nil {
		if i, ok := log.find(requestID); ok {
			return log.at(i).usage(org), true
		}
	}
	t.s.passes.missedRequest = missedKey{t, org, "", requestID}
	return passes.Usage{}, false
}

// UsageList implements passes.Tx.
func (t *Tx) UsageList(ctx context.Context, p passes.UsageListParams) ([]passes.Usage, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	log := t.s.passes.usage[p.Org]
	if log == nil {
		return nil, nil
	}
	start := sort.Search(log.n, func(i int) bool { return log.at(i).seq > p.AfterSeq })
	var out []passes.Usage
	if p.Limit > 0 {
		out = make([]passes.Usage, 0, min(p.Limit, log.n-start))
	}
	for i := start; i < log.n; i++ {
		r := log.at(i)
		if (p.Session != "" && r.shared.session != p.Session) || (p.User != "" && r.user != p.User) ||
			(p.Billing != "" && r.shared.external != (p.Billing == passes.External)) ||
			(!p.From.IsZero() && r.at.time().Before(p.From)) || (!p.To.IsZero() && !r.at.time().Before(p.To)) {
			continue
		}
		out = append(out, r.usage(p.Org))
		if p.Limit > 0 && len(out) == p.Limit {
			break
		}
	}
	return out, nil
}

// hotUndo undoes one write to an access window (log nil) or the usage log.
type hotUndo struct {
	log     *usageLog  // the log a row was appended to
	session sessionKey // the window's workspace and session
	key     string     // the window's guest, or the row's request ID
	old     window     // the window before an update
	existed bool       // the window existed: the write was an update
}

// logHot records an undo entry of the running transaction.
func (t *Tx) logHot(e hotUndo) { t.s.passes.hot = append(t.s.passes.hot, e) }

// undoHotWrites undoes the logged writes, newest first, and empties the log.
func (tb *passesTables) undoHotWrites() {
	for i := len(tb.hot) - 1; i >= 0; i-- {
		e := &tb.hot[i]
		switch {
		case e.log != nil:
			tb.seq--
			e.log.ix.remove(e.key, e.log.n-1)
			e.log.truncate(e.log.n - 1)
		case e.existed:
			tb.access[e.session][e.key] = e.old
		default:
			guests := tb.access[e.session]
			delete(guests, e.key)
			if len(guests) == 0 {
				delete(tb.access, e.session)
			}
		}
	}
	clear(tb.hot)
	tb.hot = tb.hot[:0]
}

// usageLog is one workspace's rows in fixed-size chunks: appending never
// copies the rows already there, however long the log grows.
type usageLog struct {
	chunks [][]usageRow
	n      int
	// ix finds a row by its request ID. It grows with every login; a map
	// keyed by the IDs would reread each of them, scattered in memory, every
	// time it grows.
	ix index
	// shared holds each session's latest shared row part, for the next row
	// of the session to reuse. A part outliving a rolled-back row is only a
	// candidate for reuse, never read by itself.
	shared map[string]*usageShared
}

// usageRow is a row as the log keeps it. The workspace is the log's, and
// what consecutive rows of a session have in common, the session's details
// and the custom field values, is one shared, immutable usageShared: most
// logins would otherwise repeat it row after row, and a log is the store's
// largest table.
type usageRow struct {
	shared       *usageShared
	seq          int64
	requestID    string
	at           micros
	location     string
	user         string
	passes       int64
	balanceAfter int64
	transfer     string
	inWindow     bool
	demo         bool
	accessFrom   micros
	accessUntil  micros
	locksAt      micros
}

// usageShared is the part of a row its session's rows share.
type usageShared struct {
	session     string
	sessionName string
	external    bool
	owner       string
	passType    passes.PassType
	fields      []passes.FieldValue // never changed once shared
}

func (sh *usageShared) matches(u *passes.Usage) bool {
	return sh.session == u.Session && sh.sessionName == u.SessionName && sh.external == u.External &&
		sh.owner == u.Owner && sh.passType == u.PassType && slices.Equal(sh.fields, u.Fields)
}

// usage returns the row as a passes.Usage of the workspace.
func (r *usageRow) usage(org string) passes.Usage {
	sh := r.shared
	return passes.Usage{
		Seq:          r.seq,
		Org:          org,
		RequestID:    r.requestID,
		At:           r.at.time(),
		Session:      sh.session,
		SessionName:  sh.sessionName,
		External:     sh.external,
		Location:     r.location,
		User:         r.user,
		Owner:        sh.owner,
		PassType:     sh.passType,
		Passes:       r.passes,
		BalanceAfter: r.balanceAfter,
		Transfer:     r.transfer,
		Fields:       cloneFields(sh.fields),
		InWindow:     r.inWindow,
		AccessFrom:   r.accessFrom.time(),
		AccessUntil:  r.accessUntil.time(),
		Demo:         r.demo,
		LocksAt:      r.locksAt.time(),
	}
}

const usageChunk = 1024

func (l *usageLog) at(i int) *usageRow { return &l.chunks[i/usageChunk][i%usageChunk] }

// append adds u as the row with the given Seq.
func (l *usageLog) append(seq int64, u *passes.Usage) {
	sh := l.shared[u.Session]
	if sh == nil || !sh.matches(u) {
		sh = &usageShared{
			session:     u.Session,
			sessionName: u.SessionName,
			external:    u.External,
			owner:       u.Owner,
			passType:    u.PassType,
			fields:      cloneFields(u.Fields),
		}
		l.shared[u.Session] = sh
	}
	if l.n%usageChunk == 0 && l.n/usageChunk == len(l.chunks) {
		l.chunks = append(l.chunks, make([]usageRow, usageChunk))
	}
	*l.at(l.n) = usageRow{
		shared:       sh,
		seq:          seq,
		requestID:    u.RequestID,
		at:           toMicros(u.At),
		location:     u.Location,
		user:         u.User,
		passes:       u.Passes,
		balanceAfter: u.BalanceAfter,
		transfer:     u.Transfer,
		inWindow:     u.InWindow,
		demo:         u.Demo,
		accessFrom:   toMicros(u.AccessFrom),
		accessUntil:  toMicros(u.AccessUntil),
		locksAt:      toMicros(u.LocksAt),
	}
	l.n++
}

// truncate drops the rows from n on (an undo of appends).
func (l *usageLog) truncate(n int) {
	for i := n; i < l.n; i++ {
		*l.at(i) = usageRow{}
	}
	l.n = n
}

// find returns the index of the row of request req.
func (l *usageLog) find(req string) (int, bool) {
	return l.ix.find(req, l.requestAt)
}

func (l *usageLog) requestAt(i int) string { return l.at(i).requestID }

// LoginLoad implements passes.Tx with the lookups of UsageGetByRequest,
// SessionGet, FieldList, AccessLock and AccountGet (usageByRequest and
// accessWindow are theirs), copying into st's buffers. The store's single
// lock already excludes every other transaction.
func (t *Tx) LoginLoad(ctx context.Context, p passes.LoginLoadParams, st *passes.LoginState) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	tb := &t.s.passes
	fields, sessionFields := st.Fields[:0], st.Session.Fields[:0]
	*st = passes.LoginState{}

	st.Prior, st.PriorFound = t.usageByRequest(p.Org, p.RequestID)
	if s, ok := tb.sessions[sessionKey{p.Org, p.Session}]; ok {
		st.Session, st.SessionFound = *s, true
		st.Session.Fields = append(sessionFields, s.Fields...)
	}
	st.Fields = append(fields, tb.fields[p.Org]...)
	st.Access, st.AccessFound = t.accessWindow(p.Org, p.Session, p.Guest)
	if p.Balance != "" {
		if a := t.s.accounts.get(p.Balance); a != nil {
			st.Balance, st.BalanceFound = copyAccount(a.AccountState), true
		}
	}
	return nil
}

// SessionDemoLockMark implements passes.Tx.
func (t *Tx) SessionDemoLockMark(ctx context.Context, org, session string, lockedAt time.Time) (bool, error) {
	if err := t.check(ctx); err != nil {
		return false, err
	}
	tb := &t.s.passes
	k := sessionKey{org, session}
	if _, ok := tb.sessions[k]; !ok {
		return false, &ledger.NotFoundError{Kind: "session", ID: session}
	}
	at := toMicros(lockedAt)
	old, had := tb.demoLocks[k]
	if had && old == at {
		return false, nil
	}
	tb.demoLocks[k] = at
	t.undo = append(t.undo, func() {
		if had {
			tb.demoLocks[k] = old
		} else {
			delete(tb.demoLocks, k)
		}
	})
	return true, nil
}
