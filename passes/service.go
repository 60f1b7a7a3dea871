package passes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/shopspring/decimal"
)

// Unit is the ledger unit of passes: whole passes only.
var Unit = ledger.Unit{Code: "pass", Scale: 0}

// Transfer codes the service writes on its ledger transfers.
const (
	CodeBuy   = "passes.buy"
	CodeSpend = "passes.spend"
)

// BalanceAccount is the ledger account holding a workspace's passes. It may
// not go negative.
func BalanceAccount(workspace string) ledger.AccountID {
	return ledger.AccountID("passes/" + workspace + "/balance")
}

// IssuerAccount is the account a workspace's purchases come from; its
// balance is minus everything the workspace bought.
func IssuerAccount(workspace string) ledger.AccountID {
	return ledger.AccountID("passes/" + workspace + "/issuer")
}

// SpentAccount is the account a workspace's spent passes go to.
func SpentAccount(workspace string) ledger.AccountID {
	return ledger.AccountID("passes/" + workspace + "/spent")
}

// Service sells and spends session passes over a Store. Every method runs in
// one transaction and reads the clock once, except the log's readers (Usages
// and ExportCSV), which read it a page at a time, a transaction each.
//
// A Service is safe for concurrent use.
type Service struct {
	store    Store
	clock    clock.Clock
	policies map[PassType]Policy
}

// Options configure a Service. A nil *Options means all defaults.
type Options struct {
	// Clock tells the time of logins, purchases and windows. Default:
	// clock.Real{}.
	Clock clock.Clock
	// Policies adds pass types, or replaces built-in ones, by name. Default:
	// none beyond the built-ins DayPass (DayPolicy), MonthPass (MonthPolicy)
	// and DemoPass (DemoPolicy).
	Policies map[PassType]Policy
}

// New returns a Service over store.
func New(store Store, opts *Options) (*Service, error) {
	if store == nil {
		return nil, errors.New("passes: New needs a store; use memstore.New().Passes() for an in-memory one")
	}
	s := &Service{
		store: store,
		clock: clock.Real{},
		policies: map[PassType]Policy{
			DayPass:   DayPolicy,
			MonthPass: MonthPolicy,
			DemoPass:  DemoPolicy,
		},
	}
	if opts != nil {
		if opts.Clock != nil {
			s.clock = opts.Clock
		}
		for name, p := range opts.Policies {
			if name == "" {
				return nil, invalid("Options.Policies: a pass type has an empty name")
			}
			if p == nil {
				return nil, invalid("Options.Policies: pass type %q has a nil policy", name)
			}
			s.policies[name] = p
		}
	}
	return s, nil
}

// Buy adds quantity passes to the workspace's balance, a transfer from the
// workspace's issuer account, and returns the balance after it. Retrying with
// the same request ID and quantity buys nothing more and returns the balance
// the first call returned; the same request ID with another quantity is an
// error matching ErrRequestConflict.
func (s *Service) Buy(ctx context.Context, workspace string, quantity int64, requestID string) (int64, error) {
	bal, err := s.buy(ctx, workspace, quantity, requestID)
	if err != nil {
		return 0, fmt.Errorf("buy %d passes for workspace %q: %w", quantity, workspace, err)
	}
	return bal, nil
}

func (s *Service) buy(ctx context.Context, workspace string, quantity int64, requestID string) (int64, error) {
	switch {
	case workspace == "":
		return 0, invalid("empty workspace")
	case requestID == "":
		return 0, invalid("empty request ID; choose one so the purchase can be retried safely")
	case quantity <= 0:
		return 0, invalid("quantity %d is not positive", quantity)
	}
	now := s.clock.Now()
	var bal int64
	err := s.store.InTx(ctx, func(tx Tx) error {
		b := ledger.NewBook(tx, now)
		if err := openAccounts(ctx, b, workspace); err != nil {
			return err
		}
		t, err := b.Post(ctx, ledger.Transfer{
			ID:     ledger.TransferID("passes/" + workspace + "/buy/" + requestID),
			Debit:  IssuerAccount(workspace),
			Credit: BalanceAccount(workspace),
			Amount: decimal.NewFromInt(quantity),
			Code:   CodeBuy,
		})
		if errors.Is(err, ledger.ErrConflict) {
			return fmt.Errorf("%w: request %q bought another quantity: %w", ErrRequestConflict, requestID, err)
		}
		if err != nil {
			return err
		}
		bal = passCount(t.CreditBalance)
		return nil
	})
	return bal, err
}

func openAccounts(ctx context.Context, b *ledger.Book, workspace string) error {
	if _, err := b.DefineUnit(ctx, Unit); err != nil {
		return err
	}
	for _, a := range []ledger.Account{
		{ID: IssuerAccount(workspace), Unit: Unit.Code, Owner: workspace},
		{ID: BalanceAccount(workspace), Unit: Unit.Code, Owner: workspace, Flags: ledger.FlagNonNegative},
		{ID: SpentAccount(workspace), Unit: Unit.Code, Owner: workspace},
	} {
		if _, err := b.CreateAccount(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// Balance returns the workspace's balance of passes: purchased minus spent.
// A workspace that never bought has a balance of zero.
func (s *Service) Balance(ctx context.Context, workspace string) (int64, error) {
	var bal int64
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		bal, err = balanceOf(ctx, tx, workspace)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("balance of workspace %q: %w", workspace, err)
	}
	return bal, nil
}

func balanceOf(ctx context.Context, tx Tx, workspace string) (int64, error) {
	a, err := tx.AccountGet(ctx, BalanceAccount(workspace))
	if errors.Is(err, ledger.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if a.Held.Sign() == 0 {
		return passCount(a.Posted), nil
	}
	return passCount(a.Posted.Sub(a.Held)), nil
}

// smallAmounts are the amounts logins usually spend, made once: a Decimal
// is an immutable value, so they can be shared.
var smallAmounts = func() (a [8]decimal.Decimal) {
	for i := range a {
		a[i] = decimal.NewFromInt(int64(i))
	}
	return a
}()

func passAmount(n int64) decimal.Decimal {
	if 0 <= n && n < int64(len(smallAmounts)) {
		return smallAmounts[n]
	}
	return decimal.NewFromInt(n)
}

// passCount converts a whole number of passes from the ledger without the
// allocations of IntPart in the common case of a zero exponent.
func passCount(d decimal.Decimal) int64 {
	if d.Exponent() == 0 {
		return d.CoefficientInt64()
	}
	return d.IntPart()
}

// DefineFields adds custom fields to a workspace's usage log, after the ones
// it has, in the order given; only Name and Required are read. Defining a
// field again with the same Required flag changes nothing; with another it is
// an error matching ErrFieldConflict. It returns all the workspace's fields,
// in order.
func (s *Service) DefineFields(ctx context.Context, workspace string, fields []FieldDef) ([]FieldDef, error) {
	err := checkFields(workspace, fields)
	var out []FieldDef
	if err == nil {
		err = s.store.InTx(ctx, func(tx Tx) error {
			var err error
			out, err = defineFields(ctx, tx, workspace, fields)
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("define custom fields of workspace %q: %w", workspace, err)
	}
	return out, nil
}

// checkFields refuses a definition of custom fields that no state could
// accept, before any transaction opens.
func checkFields(workspace string, fields []FieldDef) error {
	if workspace == "" {
		return invalid("empty workspace")
	}
	for _, f := range fields {
		if f.Name == "" {
			return invalid("a custom field has an empty name")
		}
	}
	return nil
}

// defineFields adds the fields the workspace does not have yet, after those
// it has, and returns them all in order.
func defineFields(ctx context.Context, tx Tx, workspace string, fields []FieldDef) ([]FieldDef, error) {
	have, err := tx.FieldList(ctx, workspace)
	if err != nil {
		return nil, err
	}
	for _, f := range fields {
		if i := fieldIndex(have, f.Name); i >= 0 {
			if have[i].Required != f.Required {
				return nil, fmt.Errorf("%w: %q is defined with Required %t", ErrFieldConflict, f.Name, have[i].Required)
			}
			continue
		}
		f.Workspace, f.Position = workspace, len(have)
		if err := tx.FieldInsert(ctx, f); err != nil {
			return nil, err
		}
		have = append(have, f)
	}
	return have, nil
}

func fieldIndex(defs []FieldDef, name string) int {
	for i, f := range defs {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// Fields returns a workspace's custom fields in their order.
func (s *Service) Fields(ctx context.Context, workspace string) ([]FieldDef, error) {
	var out []FieldDef
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		out, err = tx.FieldList(ctx, workspace)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("custom fields of workspace %q: %w", workspace, err)
	}
	return out, nil
}

// CreateSession stores a new session. Its ID is unique in the store; creating
// it again with the same contents returns the stored session, with other
// contents it is an error matching ErrSessionExists. The owner must be an
// e-mail address, the pass type one the service knows (empty means DayPass),
// and the field values must name the workspace's custom fields.
func (s *Service) CreateSession(ctx context.Context, sess Session) (Session, error) {
	out, err := s.createSession(ctx, sess)
	if err != nil {
		return Session{}, fmt.Errorf("create session %q: %w", sess.ID, err)
	}
	return out, nil
}

func (s *Service) createSession(ctx context.Context, sess Session) (Session, error) {
	if sess.PassType == "" {
		sess.PassType = DayPass
	}
	switch {
	case sess.ID == "":
		return Session{}, invalid("empty session ID")
	case sess.Workspace == "":
		return Session{}, invalid("empty workspace")
	case s.policies[sess.PassType] == nil:
		return Session{}, invalid("unknown pass type %q; use one of the built-ins or add it to Options.Policies", sess.PassType)
	}
	if _, ok := normalizeGuest(sess.Owner); !ok {
		return Session{}, invalid("owner %q is not an e-mail address", sess.Owner)
	}
	now := s.clock.Now()
	err := s.store.InTx(ctx, func(tx Tx) error {
		defs, err := tx.FieldList(ctx, sess.Workspace)
		if err != nil {
			return err
		}
		if sess.Fields, err = sessionFields(defs, sess.Fields); err != nil {
			return err
		}
		got, err := tx.SessionGet(ctx, sess.ID)
		if err == nil {
			if !sameSession(got, sess) {
				return fmt.Errorf("%w: session %q exists with other contents; choose another ID", ErrSessionExists, sess.ID)
			}
			sess = got
			return nil
		}
		if !errors.Is(err, ledger.ErrNotFound) {
			return err
		}
		sess.CreatedAt, sess.FirstLogin = ledger.Instant(now), time.Time{}
		return tx.SessionInsert(ctx, sess)
	})
	return sess, err
}

// sessionFields validates a session's field values and returns them in the
// workspace's field order.
func sessionFields(defs []FieldDef, given []FieldValue) ([]FieldValue, error) {
	if len(given) == 0 {
		return nil, nil
	}
	pos := make([]int, len(given))
	for i, f := range given {
		pos[i] = fieldIndex(defs, f.Name)
		if pos[i] < 0 {
			return nil, &FieldError{Name: f.Name, Unknown: true}
		}
		for _, g := range given[:i] {
			if g.Name == f.Name {
				return nil, invalid("custom field %q is given twice", f.Name)
			}
		}
	}
	out := make([]FieldValue, 0, len(given))
	for p := range defs {
		for i, f := range given {
			if pos[i] == p {
				out = append(out, f)
			}
		}
	}
	return out, nil
}

func sameSession(a, b Session) bool {
	return a.Workspace == b.Workspace && a.Name == b.Name && a.Owner == b.Owner &&
		a.External == b.External && a.PassType == b.PassType && slices.Equal(a.Fields, b.Fields)
}

// Session returns the session with the given ID; an unknown ID is an error
// matching ErrUnknownSession.
func (s *Service) Session(ctx context.Context, id string) (Session, error) {
	var out Session
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		out, err = tx.SessionGet(ctx, id)
		if errors.Is(err, ledger.ErrNotFound) {
			return fmt.Errorf("%w: %q", ErrUnknownSession, id)
		}
		return err
	})
	if err != nil {
		return Session{}, fmt.Errorf("get session %q: %w", id, err)
	}
	return out, nil
}

// LoginRequest is a guest entering a session.
type LoginRequest struct {
	Workspace string // the workspace the login is made in; the session must belong to it
	Session   string
	Guest     string // the guest's e-mail; compared case-insensitively
	Location  string // free text, logged as given
	// RequestID identifies the login: a retry with the same ID returns the
	// first decision and spends nothing more. Required.
	RequestID string
	// Fields are custom field values for this login's log row; they override
	// the session's. nil and empty are the same.
	Fields map[string]string
}

// Login decides a guest's login to a session under the session's pass type,
// spends what it costs and records it in the usage log, all in one
// transaction, and returns the decision.
//
// A refused login changes nothing and returns the decision with its reason
// and a *RefusalError matching ErrRefused and the reason's sentinel
// (ErrInsufficientPasses, ErrDemoLocked, ErrUnknownSession,
// ErrWrongWorkspace, ErrMalformedGuest, ErrUnknownField, ErrMissingField). A
// request that is not a login at all (no workspace or request ID) is an error
// matching ErrInvalid with a zero Decision; a request ID reused for another
// login is an error matching ErrRequestConflict.
func (s *Service) Login(ctx context.Context, r LoginRequest) (Decision, error) {
	d, err := s.login(ctx, r)
	if err != nil {
		return d, fmt.Errorf("login of %q to session %q: %w", r.Guest, r.Session, err)
	}
	return d, nil
}

func refuse(reason Reason, format string, args ...any) (Decision, error) {
	d := Decision{Reason: reason, Detail: fmt.Sprintf(format, args...)}
	return d, &RefusalError{Decision: d}
}

func (s *Service) login(ctx context.Context, r LoginRequest) (Decision, error) {
	switch {
	case r.Workspace == "":
		return Decision{}, invalid("empty workspace")
	case r.RequestID == "":
		return Decision{}, invalid("empty request ID; choose one so the login can be retried safely")
	}
	guest, ok := normalizeGuest(r.Guest)
	if !ok {
		return refuse(ReasonMalformedGuest, "guest %q is not an e-mail address like name@example.com", r.Guest)
	}
	c := loginCalls.Get().(*loginCall)
	c.s, c.ctx, c.r, c.guest, c.now = s, ctx, r, guest, s.clock.Now()
	err := s.store.InTx(ctx, c.run)
	d := c.d
	*c = loginCall{run: c.run} // keep nothing of this login in the pool
	loginCalls.Put(c)
	return d, err
}

// loginCall is a login on its way through its transaction: the function
// InTx runs, with its arguments, and the decision it reached. Calls are
// pooled, each with its function bound once, so a login allocates no closure,
// no result and no Book.
type loginCall struct {
	s     *Service
	ctx   context.Context
	r     LoginRequest
	guest string
	now   time.Time
	d     Decision
	book  ledger.Book    // the Book a spending login posts with
	run   func(Tx) error // c.do
}

var loginCalls = sync.Pool{New: func() any {
	c := new(loginCall)
	c.run = c.do
	return c
}}

func (c *loginCall) do(tx Tx) error {
	var err error
	c.d, err = c.s.loginTx(c.ctx, tx, &c.book, c.now, c.r, c.guest)
	return err
}

func (s *Service) loginTx(ctx context.Context, tx Tx, b *ledger.Book, now time.Time, r LoginRequest, guest string) (Decision, error) {
	// The instant the Book will act at, if the login spends.
	now = ledger.Instant(now)
	prior, err := tx.UsageGetByRequest(ctx, r.Workspace, r.RequestID)
	if err == nil {
		if prior.Session != r.Session || prior.User != guest || prior.Location != r.Location || !fieldsAgree(prior.Fields, r.Fields) {
			return Decision{}, fmt.Errorf("%w: request %q was a login of %q to session %q; use a new request ID for a new login", ErrRequestConflict, r.RequestID, prior.User, prior.Session)
		}
		return prior.Decision(), nil
	}
	if !errors.Is(err, ledger.ErrNotFound) {
		return Decision{}, err
	}

	sess, err := tx.SessionGet(ctx, r.Session)
	if errors.Is(err, ledger.ErrNotFound) {
		return refuse(ReasonUnknownSession, "no session %q; check the session ID", r.Session)
	}
	if err != nil {
		return Decision{}, err
	}
	if sess.Workspace != r.Workspace {
		return refuse(ReasonWrongWorkspace, "session %q belongs to another workspace than %q", r.Session, r.Workspace)
	}
	defs, err := tx.FieldList(ctx, r.Workspace)
	if err != nil {
		return Decision{}, err
	}
	fields, err := mergeFields(defs, sess.Fields, r.Fields)
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			return refuse(fe.reason(), "%s", fe.detail())
		}
		return Decision{}, err
	}
	policy := s.policies[sess.PassType]
	if policy == nil {
		return Decision{}, fmt.Errorf("%w: session %q has pass type %q, which this service does not know; add it to Options.Policies", ErrInvalid, sess.ID, sess.PassType)
	}

	// The guest's access record orders concurrent logins of one guest to
	// one session: lock it before deciding.
	acc, err := tx.AccessLock(ctx, sess.ID, guest)
	hasAccess := err == nil
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return Decision{}, err
	}
	d, err := check(now, sess.PassType, policy.Decide(now, State{Session: sess, Guest: guest, Access: acc, FirstLogin: sess.FirstLogin}))
	if err != nil {
		return Decision{}, err
	}
	if !d.Allowed {
		return d, &RefusalError{Decision: d}
	}

	u := Usage{
		Workspace:   r.Workspace,
		RequestID:   r.RequestID,
		At:          now,
		Session:     sess.ID,
		SessionName: sess.Name,
		External:    sess.External,
		Location:    r.Location,
		User:        guest,
		Owner:       sess.Owner,
		PassType:    sess.PassType,
		Passes:      d.Passes,
		Fields:      fields,
		InWindow:    d.InWindow,
		AccessFrom:  d.AccessFrom,
		AccessUntil: d.AccessUntil,
		Demo:        d.Demo,
		LocksAt:     d.LocksAt,
	}
	if d.Passes > 0 {
		id, debit, credit := spendIDs(r.Workspace, r.RequestID)
		b.Reset(tx, now)
		t, err := b.Post(ctx, ledger.Transfer{
			ID:     id,
			Debit:  debit,
			Credit: credit,
			Amount: passAmount(d.Passes),
			Code:   CodeSpend,
			Actor:  guest,
		})
		if err != nil {
			return s.spendFailed(sess, d, r.RequestID, err)
		}
		u.At = t.PostedAt
		u.Transfer = string(t.ID)
		u.BalanceAfter = passCount(t.DebitBalance)
	} else {
		if u.BalanceAfter, err = balanceOf(ctx, tx, r.Workspace); err != nil {
			return Decision{}, err
		}
	}
	d.Balance = u.BalanceAfter

	next := Access{Session: sess.ID, Guest: guest, Start: d.AccessFrom, Until: d.AccessUntil}
	switch {
	case !hasAccess:
		err = tx.AccessInsert(ctx, next)
	case !acc.Start.Equal(next.Start) || !acc.Until.Equal(next.Until):
		err = tx.AccessUpdate(ctx, next)
	}
	if err != nil {
		return Decision{}, err
	}
	if sess.FirstLogin.IsZero() {
		sess.FirstLogin = now
		if err := tx.SessionUpdate(ctx, sess); err != nil {
			return Decision{}, err
		}
	}
	if _, err := tx.UsageInsert(ctx, u); err != nil {
		if errors.Is(err, ledger.ErrAlreadyExists) {
			// Not there when this transaction looked: a concurrent login
			// with the same request ID committed first.
			return Decision{}, fmt.Errorf("a concurrent login with request ID %q finished first; retry to read its decision: %w", r.RequestID, err)
		}
		return Decision{}, err
	}
	return d, nil
}

// spendIDs returns the ID of a login's spend,
// "passes/<workspace>/login/<request ID>", and the accounts it moves passes
// between, BalanceAccount(workspace) and SpentAccount(workspace): cut from one
// string, one allocation rather than three on every spending login.
func spendIDs(workspace, requestID string) (id ledger.TransferID, debit, credit ledger.AccountID) {
	all := "passes/" + workspace + "/balance" + "passes/" + workspace + "/spent" + "passes/" + workspace + "/login/" + requestID
	spent := len("passes/") + len(workspace) + len("/balance")
	login := spent + len("passes/") + len(workspace) + len("/spent")
	return ledger.TransferID(all[login:]), ledger.AccountID(all[:spent]), ledger.AccountID(all[spent:login])
}

// spendFailed is the outcome of a login whose spend the ledger refused: a
// refusal if the balance cannot pay it, an error otherwise.
func (s *Service) spendFailed(sess Session, d Decision, requestID string, err error) (Decision, error) {
	var ib *ledger.InsufficientBalanceError
	switch {
	case errors.As(err, &ib):
		return s.short(sess, d, passCount(ib.Available))
	case errors.Is(err, ledger.ErrNotFound):
		return s.short(sess, d, 0) // the workspace never bought
	case errors.Is(err, ledger.ErrConflict):
		return Decision{}, fmt.Errorf("%w: request %q already spent differently: %w", ErrRequestConflict, requestID, err)
	}
	return Decision{}, err
}

// short is the refusal of an allowed decision the balance cannot pay.
func (s *Service) short(sess Session, d Decision, available int64) (Decision, error) {
	out := Decision{
		Reason:   ReasonInsufficientPasses,
		Detail:   fmt.Sprintf("session %q (%s) costs %s and the workspace has %d; buy passes and retry", sess.ID, sess.PassType, plural(d.Passes), available),
		PassType: d.PassType,
		Balance:  available,
	}
	return out, &RefusalError{Decision: out}
}

// fieldsAgree reports whether every value a retried login gives is the value
// its first attempt logged.
func fieldsAgree(logged []FieldValue, given map[string]string) bool {
	for name, v := range given {
		found := false
		for _, f := range logged {
			if f.Name == name {
				if f.Value != v {
					return false
				}
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
