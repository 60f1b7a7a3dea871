package memstore

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/passes"
)

// passesTables are the passes facet's records.
type passesTables struct {
	sessions map[string]*passes.Session
	fields   map[string][]passes.FieldDef // by workspace, ordered by Position
	access   map[accessKey]passes.Access
	usage    map[string]*usageLog // by workspace, ordered by Seq

	seq int64 // the last Seq given
}

type accessKey struct{ session, guest string }

func newPassesTables() passesTables {
	return passesTables{
		sessions: make(map[string]*passes.Session),
		fields:   make(map[string][]passes.FieldDef),
		access:   make(map[accessKey]passes.Access),
		usage:    make(map[string]*usageLog),
	}
}

var _ passes.Tx = (*Tx)(nil)

// Lookups that miss on every first login return these shared errors rather
// than build one each time: the passes service asks for records that do not
// exist yet on its hot path.
var (
	errAccessNotFound  error = &ledger.NotFoundError{Kind: "access window", ID: "(session, guest)"}
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
	if len(s.Fields) == 0 {
		s.Fields = nil
	} else {
		s.Fields = slices.Clone(s.Fields)
	}
	return s
}

func copyUsage(u passes.Usage) passes.Usage {
	if len(u.Fields) == 0 {
		u.Fields = nil
	} else {
		u.Fields = slices.Clone(u.Fields)
	}
	return u
}

// SessionInsert implements passes.Tx.
func (t *Tx) SessionInsert(ctx context.Context, s passes.Session) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	tb := &t.s.passes
	if _, ok := tb.sessions[s.ID]; ok {
		return fmt.Errorf("memstore: session %q: %w", s.ID, ledger.ErrAlreadyExists)
	}
	c := copySession(s)
	tb.sessions[s.ID] = &c
	t.undo = append(t.undo, func() { delete(tb.sessions, s.ID) })
	return nil
}

// SessionGet implements passes.Tx.
func (t *Tx) SessionGet(ctx context.Context, id string) (passes.Session, error) {
	if err := t.check(ctx); err != nil {
		return passes.Session{}, err
	}
	s, ok := t.s.passes.sessions[id]
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
	cur, ok := t.s.passes.sessions[s.ID]
	if !ok {
		return &ledger.NotFoundError{Kind: "session", ID: s.ID}
	}
	old := *cur
	*cur = copySession(s)
	t.undo = append(t.undo, func() { *cur = old })
	return nil
}

// FieldInsert implements passes.Tx.
func (t *Tx) FieldInsert(ctx context.Context, f passes.FieldDef) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	tb := &t.s.passes
	old := tb.fields[f.Workspace]
	for _, g := range old {
		if g.Name == f.Name || g.Position == f.Position {
			return fmt.Errorf("memstore: custom field %q (position %d) of workspace %q: %w", f.Name, f.Position, f.Workspace, ledger.ErrAlreadyExists)
		}
	}
	next := slices.Clone(old)
	next = append(next, f)
	slices.SortFunc(next, func(a, b passes.FieldDef) int { return a.Position - b.Position })
	tb.fields[f.Workspace] = next
	t.undo = append(t.undo, func() {
		if old == nil {
			delete(tb.fields, f.Workspace)
		} else {
			tb.fields[f.Workspace] = old
		}
	})
	return nil
}

// FieldList implements passes.Tx.
func (t *Tx) FieldList(ctx context.Context, workspace string) ([]passes.FieldDef, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	fs := t.s.passes.fields[workspace]
	if len(fs) == 0 {
		return nil, nil
	}
	return slices.Clone(fs), nil
}

// AccessLock implements passes.Tx. The store's single lock already excludes
// every other transaction.
func (t *Tx) AccessLock(ctx context.Context, session, guest string) (passes.Access, error) {
	if err := t.check(ctx); err != nil {
		return passes.Access{}, err
	}
	a, ok := t.s.passes.access[accessKey{session, guest}]
	if !ok {
		return passes.Access{}, errAccessNotFound
	}
	return a, nil
}

// AccessInsert implements passes.Tx.
func (t *Tx) AccessInsert(ctx context.Context, a passes.Access) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	tb := &t.s.passes
	k := accessKey{a.Session, a.Guest}
	if _, ok := tb.access[k]; ok {
		return fmt.Errorf("memstore: access of %q to session %q: %w", a.Guest, a.Session, ledger.ErrAlreadyExists)
	}
	tb.access[k] = a
	t.undo = append(t.undo, func() { delete(tb.access, k) })
	return nil
}

// AccessUpdate implements passes.Tx.
func (t *Tx) AccessUpdate(ctx context.Context, a passes.Access) error {
	if err := t.check(ctx); err != nil {
		return err
	}
	tb := &t.s.passes
	k := accessKey{a.Session, a.Guest}
	old, ok := tb.access[k]
	if !ok {
		return &ledger.NotFoundError{Kind: "access", ID: a.Session + " " + a.Guest}
	}
	tb.access[k] = a
	t.undo = append(t.undo, func() { tb.access[k] = old })
	return nil
}

// UsageInsert implements passes.Tx.
func (t *Tx) UsageInsert(ctx context.Context, u passes.Usage) (int64, error) {
	if err := t.check(ctx); err != nil {
		return 0, err
	}
	tb := &t.s.passes
	log := tb.usage[u.Workspace]
	if log == nil {
		log = &usageLog{byReq: make(map[string]int)}
		tb.usage[u.Workspace] = log
	}
	if _, ok := log.byReq[u.RequestID]; ok {
		return 0, fmt.Errorf("memstore: usage row of request %q in workspace %q: %w", u.RequestID, u.Workspace, ledger.ErrAlreadyExists)
	}
	req := u.RequestID
	tb.seq++
	u = copyUsage(u)
	u.Seq = tb.seq
	n := log.n
	log.append(u)
	log.byReq[req] = n
	t.undo = append(t.undo, func() {
		tb.seq--
		log.truncate(n)
		delete(log.byReq, req)
	})
	return u.Seq, nil
}

// UsageGetByRequest implements passes.Tx.
func (t *Tx) UsageGetByRequest(ctx context.Context, workspace, requestID string) (passes.Usage, error) {
	if err := t.check(ctx); err != nil {
		return passes.Usage{}, err
	}
	log := t.s.passes.usage[workspace]
	if log == nil {
		return passes.Usage{}, errRequestNotFound
	}
	i, ok := log.byReq[requestID]
	if !ok {
		return passes.Usage{}, errRequestNotFound
	}
	return copyUsage(*log.at(i)), nil
}

// UsageList implements passes.Tx.
func (t *Tx) UsageList(ctx context.Context, p passes.UsageListParams) ([]passes.Usage, error) {
	if err := t.check(ctx); err != nil {
		return nil, err
	}
	log := t.s.passes.usage[p.Workspace]
	if log == nil {
		return nil, nil
	}
	start := sort.Search(log.n, func(i int) bool { return log.at(i).Seq > p.AfterSeq })
	var out []passes.Usage
	if p.Limit > 0 {
		out = make([]passes.Usage, 0, min(p.Limit, log.n-start))
	}
	for i := start; i < log.n; i++ {
		u := log.at(i)
		if (p.Session != "" && u.Session != p.Session) || (p.User != "" && u.User != p.User) ||
			(!p.From.IsZero() && u.At.Before(p.From)) || (!p.To.IsZero() && !u.At.Before(p.To)) {
			continue
		}
		out = append(out, copyUsage(*u))
		if p.Limit > 0 && len(out) == p.Limit {
			break
		}
	}
	return out, nil
}

// usageLog is one workspace's rows in fixed-size chunks: appending never
// copies the rows already there, however long the log grows.
type usageLog struct {
	chunks [][]passes.Usage
	n      int
	byReq  map[string]int // request ID -> row index
}

const usageChunk = 1024

func (l *usageLog) at(i int) *passes.Usage { return &l.chunks[i/usageChunk][i%usageChunk] }

func (l *usageLog) append(u passes.Usage) {
	if l.n%usageChunk == 0 && l.n/usageChunk == len(l.chunks) {
		l.chunks = append(l.chunks, make([]passes.Usage, usageChunk))
	}
	*l.at(l.n) = u
	l.n++
}

// truncate drops the rows from n on (an undo of appends).
func (l *usageLog) truncate(n int) {
	for i := n; i < l.n; i++ {
		*l.at(i) = passes.Usage{}
	}
	l.n = n
}
