package passes

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/errcode"
	"github.com/allot-dev/allot/internal/input"
	"github.com/allot-dev/allot/internal/paging"
	"github.com/allot-dev/allot/ledger"
	"github.com/shopspring/decimal"
)

// Unit is the ledger unit of passes: whole passes only.
var Unit = ledger.Unit{Code: "pass", Scale: 0}

// Transfer codes the service writes on its ledger transfers.
const (
	// CodeBuy marks a purchase's transfer, from IssuerAccount to
	// BalanceAccount.
	CodeBuy = "passes.buy"
	// CodeSpend marks a login's spend, from BalanceAccount to SpentAccount.
	CodeSpend = "passes.spend"
)

// BalanceAccount is the ledger account holding a workspace's passes,
// "passes/<workspace>/balance" (with '%' and '/' in the workspace escaped, see
// input.Join, so that no two workspaces share an account). It may not go
// negative.
func BalanceAccount(org string) ledger.AccountID {
	return ledger.AccountID(input.Join("passes", org, "balance"))
}

// IssuerAccount is the account a workspace's purchases come from,
// "passes/<workspace>/issuer"; its balance is minus everything the workspace
// bought.
func IssuerAccount(org string) ledger.AccountID {
	return ledger.AccountID(input.Join("passes", org, "issuer"))
}

// SpentAccount is the account a workspace's spent passes go to,
// "passes/<workspace>/spent".
func SpentAccount(org string) ledger.AccountID {
	return ledger.AccountID(input.Join("passes", org, "spent"))
}

// buyID is the ID of a purchase's transfer, "passes/<workspace>/buy/<request
// ID>", each part escaped by input.Join: no purchase takes the ID of another
// workspace's purchase or of any login's spend.
func buyID(org, requestID string) ledger.TransferID {
	return ledger.TransferID(input.Join("passes", org, "buy", requestID))
}

// checkID refuses an ID input.ID refuses, naming the field.
func checkID(field, id string) error {
	if r := input.ID(id); r != "" {
		return invalid(field, "%q %s", id, r)
	}
	return nil
}

// checkText refuses free text input.Text refuses, naming the field.
func checkText(field, s string) error {
	if r := input.Text(s); r != "" {
		return invalid(field, "%q %s", s, r)
	}
	return nil
}

// checkNow refuses to act at a time no store keeps: the clock is wrong.
func checkNow(now time.Time) error {
	if r := input.Time(now); r != "" {
		return invalid("clock", "%s; the service's clock must be fixed", r)
	}
	return nil
}

// Service sells and spends session passes over a Store. Every method runs in
// one transaction and reads the clock once, except the log's readers (Log
// and ExportCSV), which read it a page at a time, a transaction each.
//
// A Service is safe for concurrent use.
type Service struct {
	store    Store
	clock    clock.Clock
	roles    allot.Roles
	policies map[PassType]Policy
	logger   *slog.Logger

	thresholdPcts []int
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
	// Roles says who holds which role in which workspace: WorkspaceAdmin
	// for the Session Passes screen's calls, allot.Vendor for Purchase.
	// Default: nil, which grants nothing, so every call that checks a role
	// is refused (Login and Audit check none).
	Roles allot.Roles
	// Thresholds are the percents of a workspace's purchased passes spent
	// whose crossing, up or down, emits an events.PoolThreshold. Default:
	// nil, which means {80, 100}; an empty slice means none. Each must be
	// from 1 to 100.
	Thresholds []int
	// Logger receives refusals at debug, retried requests at info and
	// anything unexpected at warn, with the attributes org and request_id.
	// Default: nil, silent.
	Logger *slog.Logger
}

// New returns a Service over store.
func New(store Store, opts *Options) (*Service, error) {
	if store == nil {
		return nil, invalid("store", "none given; give the service an in-memory or PostgreSQL store")
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
		s.roles = opts.Roles
		s.logger = opts.Logger
		if opts.Thresholds != nil {
			if err := checkThresholds(opts.Thresholds); err != nil {
				return nil, err
			}
			s.thresholdPcts = slices.Clone(opts.Thresholds)
		} else {
			s.thresholdPcts = events.DefaultThresholds()
		}
		for name, p := range opts.Policies {
			if name == "" {
				return nil, invalid("Policies", "a pass type has an empty name")
			}
			if p == nil {
				return nil, invalid("Policies", "pass type %q has no policy", name)
			}
			s.policies[name] = p
		}
	} else {
		s.thresholdPcts = events.DefaultThresholds()
	}
	return s, nil
}

// PurchaseParams is a vendor's sale of passes to a workspace.
type PurchaseParams struct {
	Org      string // the workspace that buys
	Actor    string // the vendor's actor; holds allot.Vendor in Org
	Quantity int64  // passes added; positive
	// Subscription is the subscription or order the passes are sold under,
	// kept with the purchase; empty for none, else an ID (input.ID).
	Subscription string
	// RequestID identifies the purchase: a retry with the same ID and
	// contents returns the first purchase and buys nothing more. Required.
	RequestID string
}

// Purchase adds Quantity passes to the workspace's balance, a transfer from
// the workspace's issuer account, and returns what it recorded: the
// workspace's passes bought and available right after it. ThinkTank sells
// passes: a purchase is the vendor's act, so Actor must hold allot.Vendor in
// the workspace (a workspace administrator may not buy for themselves), or
// the call is refused with a *allot.ForbiddenError and changes nothing.
//
// Retrying with the same request ID, quantity, subscription and actor,
// whenever (after other purchases and logins, or with the clock moved on),
// buys nothing more, changes nothing and returns the very purchase the first
// call returned, read back from its ledger transfer; the same request ID
// with another quantity, subscription or actor is an error matching
// ErrRequestConflict (code request_reused).
func (s *Service) Purchase(ctx context.Context, p PurchaseParams) (allot.Purchase, error) {
	out, err := s.purchase(ctx, p)
	s.observe(ctx, "purchase", p.Org, p.RequestID, err)
	if err != nil {
		return allot.Purchase{}, errcode.Ensure(fmt.Errorf("buy %d passes for workspace %q: %w", p.Quantity, p.Org, err))
	}
	return out, nil
}

// checkPurchase refuses a purchase no state could accept and returns it
// with its actor in canonical form.
func checkPurchase(p PurchaseParams) (PurchaseParams, error) {
	if err := checkID("Org", p.Org); err != nil {
		return p, err
	}
	if p.RequestID == "" {
		return p, invalid("RequestID", "empty; choose one so the purchase can be retried safely")
	}
	if err := checkID("RequestID", p.RequestID); err != nil {
		return p, err
	}
	if p.Quantity <= 0 {
		return p, invalid("Quantity", "%d is not positive", p.Quantity)
	}
	if p.Subscription != "" {
		if err := checkID("Subscription", p.Subscription); err != nil {
			return p, err
		}
	}
	var err error
	p.Actor, err = checkActor(p.Actor)
	return p, err
}

// checkActor returns actor in its canonical form (input.Actor), or refuses
// it naming the field Actor.
func checkActor(actor string) (string, error) {
	a, r := input.Actor(actor)
	if r != "" {
		return "", invalid("Actor", "%q %s", actor, r)
	}
	return a, nil
}

// require returns the actor in canonical form if it holds any one of need
// in org, or the refusal: an *InvalidError for an actor that is not one, a
// *allot.ForbiddenError naming action for one without the role.
func (s *Service) require(ctx context.Context, org, actor, action string, need ...allot.Role) (string, error) {
	a, err := checkActor(actor)
	if err != nil {
		return "", err
	}
	return a, access.Require(ctx, s.roles, org, a, action, need...)
}

// subscriptionKey is the metadata key of a purchase's subscription on its
// ledger transfer.
const subscriptionKey = "subscription"

func (s *Service) purchase(ctx context.Context, p PurchaseParams) (allot.Purchase, error) {
	p, err := checkPurchase(p)
	if err != nil {
		return allot.Purchase{}, err
	}
	if err := access.Require(ctx, s.roles, p.Org, p.Actor, "buy passes", allot.Vendor); err != nil {
		return allot.Purchase{}, err
	}
	now := s.clock.Now()
	if err := checkNow(now); err != nil {
		return allot.Purchase{}, err
	}
	var meta map[string]string
	if p.Subscription != "" {
		meta = map[string]string{subscriptionKey: p.Subscription}
	}
	var out allot.Purchase
	err = s.store.InTx(ctx, func(tx Tx) error {
		b := ledger.NewBook(tx, now)
		if err := openAccounts(ctx, b, p.Org); err != nil {
			return ledgerErr(err, "the ledger refused to open the accounts of workspace %q", p.Org)
		}
		// A retry posts nothing and emits nothing: the first call did.
		prior, err := tx.TransfersGet(ctx, []ledger.TransferID{buyID(p.Org, p.RequestID)}, nil)
		if err != nil {
			return err
		}
		retry := len(prior) > 0
		t, err := b.Post(ctx, ledger.Transfer{
			ID:       buyID(p.Org, p.RequestID),
			Debit:    IssuerAccount(p.Org),
			Credit:   BalanceAccount(p.Org),
			Amount:   decimal.NewFromInt(p.Quantity),
			Code:     CodeBuy,
			Actor:    p.Actor,
			Metadata: meta,
		})
		if errors.Is(err, ledger.ErrConflict) {
			if legacy, ok := legacyPurchase(ctx, tx, p); ok {
				t, err = legacy, nil
			} else {
				return translate(fmt.Errorf("%w: request %q bought another quantity, under another subscription or by another actor; use a new request ID for a new purchase", ErrRequestConflict, p.RequestID), err)
			}
		}
		if err != nil {
			return ledgerErr(err, "the ledger refused purchase %q of workspace %q", p.RequestID, p.Org)
		}
		// A balance an int64 cannot show is refused: returning the error
		// rolls the purchase back.
		available, err := passCount(t.CreditBalance)
		if err != nil {
			return invalid("Quantity", "buying %d passes would take the balance of workspace %q to %s, more than the %d it can hold", p.Quantity, p.Org, t.CreditBalance, int64(math.MaxInt64))
		}
		purchased, err := passCount(t.DebitBalance.Neg())
		if err != nil {
			return invalid("Quantity", "buying %d passes would take the passes workspace %q bought to %s, more than the %d it can count", p.Quantity, p.Org, t.DebitBalance.Neg(), int64(math.MaxInt64))
		}
		out = allot.Purchase{
			Org:          p.Org,
			Product:      Unit.Code,
			Quantity:     p.Quantity,
			Subscription: p.Subscription,
			Actor:        p.Actor,
			RequestID:    p.RequestID,
			At:           t.PostedAt,
			Purchased:    purchased,
			Available:    available,
		}
		if retry {
			s.retried(ctx, "purchase", p.Org, p.RequestID)
			return nil
		}
		env := events.Event{Org: p.Org, At: t.PostedAt, Actor: p.Actor, RequestID: p.RequestID}
		e := env
		e.Type, e.Payload = events.PassesPurchased, out
		used := purchased - available
		return tx.Emit(ctx, s.thresholds([]events.Event{e}, env, used, purchased-p.Quantity, used, purchased)...)
	})
	return out, err
}

// legacyPurchase returns the transfer of p's request if it is a purchase
// recorded before purchases kept their actor (no actor, no metadata) of
// p's quantity, and p names no subscription: p is its retry, by whichever
// vendor's actor.
func legacyPurchase(ctx context.Context, tx Tx, p PurchaseParams) (ledger.Transfer, bool) {
	if p.Subscription != "" {
		return ledger.Transfer{}, false
	}
	ts, err := tx.TransfersGet(ctx, []ledger.TransferID{buyID(p.Org, p.RequestID)}, nil)
	if err != nil || len(ts) != 1 {
		return ledger.Transfer{}, false
	}
	t := ts[0]
	if t.Actor != "" || len(t.Metadata) != 0 || t.Code != CodeBuy || !t.Amount.Equal(decimal.NewFromInt(p.Quantity)) {
		return ledger.Transfer{}, false
	}
	return t, true
}

func openAccounts(ctx context.Context, b *ledger.Book, org string) error {
	if _, err := b.DefineUnit(ctx, Unit); err != nil {
		return err
	}
	for _, a := range []ledger.Account{
		{ID: IssuerAccount(org), Unit: Unit.Code, Owner: org},
		{ID: BalanceAccount(org), Unit: Unit.Code, Owner: org, Flags: ledger.FlagNonNegative},
		{ID: SpentAccount(org), Unit: Unit.Code, Owner: org},
	} {
		if _, err := b.CreateAccount(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// BalanceParams name the workspace whose balance a workspace
// administrator reads.
type BalanceParams struct {
	Org   string
	Actor string // holds WorkspaceAdmin in Org
}

// Balance returns the workspace's balance of passes: purchased minus spent.
// A workspace that never bought has a balance of zero. Actor must hold
// WorkspaceAdmin in the workspace.
func (s *Service) Balance(ctx context.Context, p BalanceParams) (int64, error) {
	var bal int64
	err := checkID("Org", p.Org)
	if err == nil {
		_, err = s.require(ctx, p.Org, p.Actor, "read the balance of passes", WorkspaceAdmin)
	}
	if err == nil {
		err = s.store.InTx(ctx, func(tx Tx) error {
			var err error
			bal, err = balanceOf(ctx, tx, p.Org)
			return err
		})
	}
	if err != nil {
		return 0, errcode.Ensure(fmt.Errorf("balance of workspace %q: %w", p.Org, err))
	}
	return bal, nil
}

func balanceOf(ctx context.Context, tx Tx, org string) (int64, error) {
	a, err := tx.AccountGet(ctx, BalanceAccount(org))
	if errors.Is(err, ledger.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return available(a)
}

// available is the passes of a balance account not held.
func available(a ledger.AccountState) (int64, error) {
	if a.Held.Sign() == 0 {
		return passCount(a.Posted)
	}
	return passCount(a.Posted.Sub(a.Held))
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

// passCount converts a whole number of passes from the ledger, or refuses
// one an int64 cannot hold (an error matching ErrInvalid): a count is exact
// or an error, never wrapped. input.Int64 costs no allocation in the common
// case of a zero exponent.
func passCount(d decimal.Decimal) (int64, error) {
	n, ok := input.Int64(d)
	if !ok {
		return 0, invalid("balance", "the workspace holds %s passes, which is not a whole number an int64 holds", d)
	}
	return n, nil
}

// DefineFieldsParams are custom fields a workspace administrator adds to
// the workspace's usage log.
type DefineFieldsParams struct {
	Org    string
	Actor  string     // holds WorkspaceAdmin in Org
	Fields []FieldDef // only Name and Required are read
}

// DefineFields adds custom fields to a workspace's usage log, after the ones
// it has, in the order given. Defining a field again with the same Required
// flag changes nothing; with another it is an error matching
// ErrFieldConflict. It returns all the workspace's fields, in order. Actor
// must hold WorkspaceAdmin in the workspace.
//
// DefineFields is naturally idempotent: a retry with the same fields, alone
// or concurrent with the first call, adds nothing and returns the same
// fields (with the fields others defined in between after them, since it
// returns all of the workspace's).
func (s *Service) DefineFields(ctx context.Context, p DefineFieldsParams) ([]FieldDef, error) {
	err := checkFields(p.Org, p.Fields)
	if err == nil {
		_, err = s.require(ctx, p.Org, p.Actor, "define custom fields", WorkspaceAdmin)
	}
	var out []FieldDef
	if err == nil {
		err = s.store.InTx(ctx, func(tx Tx) error {
			var err error
			out, err = defineFields(ctx, tx, p.Org, p.Fields)
			return err
		})
	}
	if err != nil {
		return nil, errcode.Ensure(fmt.Errorf("define custom fields of workspace %q: %w", p.Org, err))
	}
	return out, nil
}

// checkFields refuses a definition of custom fields that no state could
// accept, before any transaction opens.
func checkFields(org string, fields []FieldDef) error {
	if err := checkID("Org", org); err != nil {
		return err
	}
	for _, f := range fields {
		if f.Name == "" {
			return invalid("Name", "a custom field has an empty name")
		}
		if err := checkText("Name", f.Name); err != nil {
			return err
		}
	}
	return nil
}

// defineFields adds the fields the workspace does not have yet, after those
// it has, and returns them all in order. It reads the fields under the
// workspace's field lock, so concurrent definitions take their positions one
// after the other rather than race for the next one.
func defineFields(ctx context.Context, tx Tx, org string, fields []FieldDef) ([]FieldDef, error) {
	have, err := tx.FieldsLock(ctx, org)
	if err != nil {
		return nil, err
	}
	for _, f := range fields {
		if i := fieldIndex(have, f.Name); i >= 0 {
			if have[i].Required != f.Required {
				return nil, fmt.Errorf("%w: custom field %q is defined as %s; define it as it is or choose another name", ErrFieldConflict, f.Name, requiredWord(have[i].Required))
			}
			continue
		}
		f.Org, f.Position = org, len(have)
		if err := tx.FieldInsert(ctx, f); err != nil {
			return nil, err
		}
		have = append(have, f)
	}
	return have, nil
}

func requiredWord(required bool) string {
	if required {
		return "required"
	}
	return "optional"
}

func fieldIndex(defs []FieldDef, name string) int {
	for i, f := range defs {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// FieldsParams name the workspace whose custom fields a workspace
// administrator reads.
type FieldsParams struct {
	Org   string
	Actor string // holds WorkspaceAdmin in Org
}

// Fields returns a workspace's custom fields in their order. Actor must
// hold WorkspaceAdmin in the workspace.
func (s *Service) Fields(ctx context.Context, p FieldsParams) ([]FieldDef, error) {
	var out []FieldDef
	err := checkID("Org", p.Org)
	if err == nil {
		_, err = s.require(ctx, p.Org, p.Actor, "read the custom fields", WorkspaceAdmin)
	}
	if err == nil {
		out, err = s.fields(ctx, p.Org)
	}
	if err != nil {
		return nil, errcode.Ensure(fmt.Errorf("custom fields of workspace %q: %w", p.Org, err))
	}
	return out, nil
}

func (s *Service) fields(ctx context.Context, org string) ([]FieldDef, error) {
	var out []FieldDef
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		out, err = tx.FieldList(ctx, org)
		return err
	})
	return out, err
}

// CreateSessionParams are a new session, created by a workspace
// administrator.
type CreateSessionParams struct {
	Org   string
	Actor string // holds WorkspaceAdmin in Org
	ID    string // unique in the workspace
	Name  string
	// Owner is the e-mail address the usage log shows as the session
	// owner. Empty means the Actor, who creates the session (ThinkTank:
	// "Session Owner displays the e-mail address of the person who created
	// the session"); the Actor must then be an e-mail address.
	Owner    string
	External bool     // billed as external; false: internal
	PassType PassType // empty means DayPass
	Fields   []FieldValue
}

// CreateSession stores a new session and returns it. Its ID is unique in
// its workspace (another workspace may have a session with the same ID);
// creating it again with other contents is an error matching
// ErrSessionExists. The IDs must pass input.ID, the name input.Text, the
// owner must be an e-mail address (stored in its canonical form, see
// input.Email), the pass type one the service knows (empty means DayPass),
// and the field values must name the workspace's custom fields. Actor must
// hold WorkspaceAdmin in the workspace.
//
// CreateSession is naturally idempotent: a retry with the same contents
// (the owner in any case the e-mail rule folds, the field values in any
// order, an empty pass type for DayPass), whenever, changes nothing and
// returns the stored session, with its CreatedAt and, once a guest logged
// in, its FirstLogin. A retry after UpdateSession changed the session is an
// error matching ErrSessionExists: read the session with Session.
func (s *Service) CreateSession(ctx context.Context, p CreateSessionParams) (Session, error) {
	out, err := s.createSession(ctx, p)
	if err != nil {
		return Session{}, errcode.Ensure(fmt.Errorf("create session %q: %w", p.ID, err))
	}
	return out, nil
}

// checkSession refuses a session no state could accept and returns it with
// its defaults and its owner's canonical address.
func (s *Service) checkSession(sess Session) (Session, error) {
	if sess.PassType == "" {
		sess.PassType = DayPass
	}
	if sess.ID == "" {
		return Session{}, invalid("ID", "empty; give the session an ID")
	}
	if err := checkID("ID", sess.ID); err != nil {
		return Session{}, err
	}
	if err := checkID("Org", sess.Org); err != nil {
		return Session{}, err
	}
	if err := checkText("Name", sess.Name); err != nil {
		return Session{}, err
	}
	if s.policies[sess.PassType] == nil {
		return Session{}, invalid("PassType", "%q is not a pass type this service knows; use one of %s", sess.PassType, s.passTypes())
	}
	owner, r := input.Email(sess.Owner)
	if r != "" {
		return Session{}, invalid("Owner", "%s", r)
	}
	sess.Owner = owner
	for _, f := range sess.Fields {
		if err := checkText("Fields", f.Name); err != nil {
			return Session{}, err
		}
		if r := input.Text(f.Value); r != "" {
			return Session{}, invalid("Fields", "value %q of custom field %q %s", f.Value, f.Name, r)
		}
	}
	return sess, nil
}

// passTypes lists the pass types the service knows, sorted, for a message.
func (s *Service) passTypes() string {
	names := make([]string, 0, len(s.policies))
	for pt := range s.policies {
		names = append(names, fmt.Sprintf("%q", pt))
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func (s *Service) createSession(ctx context.Context, p CreateSessionParams) (Session, error) {
	actor, err := checkActor(p.Actor)
	if err != nil {
		return Session{}, err
	}
	sess := Session{ID: p.ID, Org: p.Org, Name: p.Name, Owner: p.Owner, External: p.External, PassType: p.PassType, Fields: p.Fields}
	if strings.TrimSpace(sess.Owner) == "" {
		if !strings.Contains(actor, "@") {
			return Session{}, invalid("Owner", "empty, and the actor %q who creates the session has no e-mail address to stand for it; give the owner's e-mail address", actor)
		}
		sess.Owner = actor
	}
	if sess, err = s.checkSession(sess); err != nil {
		return Session{}, err
	}
	if err := access.Require(ctx, s.roles, sess.Org, actor, "create sessions", WorkspaceAdmin); err != nil {
		return Session{}, err
	}
	now := s.clock.Now()
	if err := checkNow(now); err != nil {
		return Session{}, err
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		defs, err := tx.FieldList(ctx, sess.Org)
		if err != nil {
			return err
		}
		if sess.Fields, err = sessionFields(defs, sess.Fields); err != nil {
			return err
		}
		got, err := tx.SessionGet(ctx, sess.Org, sess.ID)
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
				return nil, invalid("Fields", "custom field %q is given twice", f.Name)
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

// sameSession reports whether the stored session a is the one b asks for.
// Owners compare in their canonical form: a session stored before owners
// were kept canonical matches a request that names its owner either way.
func sameSession(a, b Session) bool {
	owner := a.Owner
	if canon, r := input.Email(owner); r == "" {
		owner = canon
	}
	return a.Org == b.Org && a.Name == b.Name && owner == b.Owner &&
		a.External == b.External && a.PassType == b.PassType && slices.Equal(a.Fields, b.Fields)
}

// UpdateSessionParams is a change to a session: the administrator makes a demo
// session a paid one, renames it, or changes its billing, owner or custom
// field values. Workspace and ID name the session; every other field is
// optional, nil meaning "keep it", and sets the session's value to what it
// points to. Fields, when given, replaces all the session's custom field
// values (a pointer to an empty slice clears them).
//
// A change is naturally idempotent: it sets values, so applying it again
// returns the same session and changes nothing.
type UpdateSessionParams struct {
	Org   string
	Actor string // holds WorkspaceAdmin in Org
	ID    string

	Name     *string
	Owner    *string // an e-mail address, stored in its canonical form; may not be empty
	External *bool
	PassType *PassType // one the service knows; empty means DayPass
	Fields   *[]FieldValue
}

// UpdateSession applies a change to a session and returns the session as it
// is after it. Actor must hold WorkspaceAdmin in the workspace. A session the workspace does not have is an error matching
// ErrUnknownSession (code not_found); a pass type the service does not know,
// an owner that is not an e-mail address, a name or field value that is not
// text is an error matching ErrInvalid, and a value for a custom field the
// workspace does not define one matching ErrUnknownField, all with nothing
// changed.
//
// Applying the same change again (a retry, whatever the clock reads) returns
// the same session and writes nothing: a change sets values, it does not
// add to them. A retry after another change to the same values sets them
// again, as the later of the two.
//
// The change applies to later logins: a login decides under the session's
// pass type when it happens. Making a demo session, open or locked, a paid
// one makes later logins spend under the new pass type; an access window a
// guest already has (a demo's until the demo's lock, a paid window until its
// end) stays valid until it ends, and a login inside it spends nothing. A
// session made a demo is open for the demo's period from its first guest
// login, which for a session with past logins may have passed: it is then
// locked at once. CreatedAt and FirstLogin do not change, and the usage log
// keeps its rows as they were logged (each row shows the session's name,
// billing, owner and pass type at its login).
func (s *Service) UpdateSession(ctx context.Context, c UpdateSessionParams) (Session, error) {
	out, err := s.updateSession(ctx, c)
	if err != nil {
		return Session{}, errcode.Ensure(fmt.Errorf("update session %q: %w", c.ID, err))
	}
	return out, nil
}

// checkChange refuses a change no state could accept and returns it with
// its owner in canonical form and an empty pass type made DayPass.
func (s *Service) checkChange(c UpdateSessionParams) (UpdateSessionParams, error) {
	if err := checkID("Org", c.Org); err != nil {
		return c, err
	}
	if c.ID == "" {
		return c, invalid("ID", "empty; name the session to change")
	}
	if err := checkID("ID", c.ID); err != nil {
		return c, err
	}
	if c.Name != nil {
		if err := checkText("Name", *c.Name); err != nil {
			return c, err
		}
	}
	if c.PassType != nil {
		pt := *c.PassType
		if pt == "" {
			pt = DayPass
		}
		if s.policies[pt] == nil {
			return c, invalid("PassType", "%q is not a pass type this service knows; use one of %s", pt, s.passTypes())
		}
		c.PassType = &pt
	}
	if c.Owner != nil {
		owner, r := input.Email(*c.Owner)
		if r != "" {
			return c, invalid("Owner", "%s", r)
		}
		c.Owner = &owner
	}
	if c.Fields != nil {
		for _, f := range *c.Fields {
			if err := checkText("Fields", f.Name); err != nil {
				return c, err
			}
			if r := input.Text(f.Value); r != "" {
				return c, invalid("Fields", "value %q of custom field %q %s", f.Value, f.Name, r)
			}
		}
	}
	return c, nil
}

func (s *Service) updateSession(ctx context.Context, c UpdateSessionParams) (Session, error) {
	c, err := s.checkChange(c)
	if err != nil {
		return Session{}, err
	}
	if _, err := s.require(ctx, c.Org, c.Actor, "change sessions", WorkspaceAdmin); err != nil {
		return Session{}, err
	}
	var out Session
	err = s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.SessionGet(ctx, c.Org, c.ID)
		if errors.Is(err, ledger.ErrNotFound) {
			return fmt.Errorf("%w: workspace %q has no session %q; check the session ID", ErrUnknownSession, c.Org, c.ID)
		}
		if err != nil {
			return err
		}
		next := cur
		next.Fields = slices.Clone(cur.Fields)
		if c.Name != nil {
			next.Name = *c.Name
		}
		if c.Owner != nil {
			next.Owner = *c.Owner
		}
		if c.External != nil {
			next.External = *c.External
		}
		if c.PassType != nil {
			next.PassType = *c.PassType
		}
		if c.Fields != nil {
			defs, err := tx.FieldList(ctx, c.Org)
			if err != nil {
				return err
			}
			if next.Fields, err = sessionFields(defs, *c.Fields); err != nil {
				return err
			}
		}
		out = next
		if sameSession(cur, next) && cur.Owner == next.Owner {
			return nil // nothing to change: a retry writes nothing
		}
		return tx.SessionUpdate(ctx, next)
	})
	if err != nil {
		return Session{}, err
	}
	return out, nil
}

// SessionParams name a session a workspace administrator reads.
type SessionParams struct {
	Org   string
	Actor string // holds WorkspaceAdmin in Org
	ID    string
}

// Session returns the workspace's session with the given ID. An ID no
// session of the workspace has is an error matching ErrUnknownSession,
// whether or not another workspace has a session with that ID. Actor must
// hold WorkspaceAdmin in the workspace.
func (s *Service) Session(ctx context.Context, p SessionParams) (Session, error) {
	var out Session
	err := checkID("Org", p.Org)
	if err == nil {
		err = checkID("ID", p.ID)
	}
	if err == nil {
		_, err = s.require(ctx, p.Org, p.Actor, "read sessions", WorkspaceAdmin)
	}
	if err == nil {
		err = s.store.InTx(ctx, func(tx Tx) error {
			var err error
			out, err = tx.SessionGet(ctx, p.Org, p.ID)
			if errors.Is(err, ledger.ErrNotFound) {
				return fmt.Errorf("%w: workspace %q has no session %q; check the session ID", ErrUnknownSession, p.Org, p.ID)
			}
			return err
		})
	}
	if err != nil {
		return Session{}, errcode.Ensure(fmt.Errorf("get session %q: %w", p.ID, err))
	}
	return out, nil
}

// SessionsParams select a page of a workspace's sessions.
type SessionsParams struct {
	Org    string
	Actor  string // holds WorkspaceAdmin in Org
	Cursor string // Next of the previous page; empty for the first page
	Limit  int    // sessions per page; zero means allot.DefaultLimit, at most allot.MaxLimit
}

// SessionsPage returns one page of a workspace's sessions, ordered by ID
// (bytewise), e.g. for the usage log's session filter. Actor must hold
// WorkspaceAdmin in the workspace. A Cursor this listing did not return for
// the workspace is an *InvalidError with Field "Cursor".
func (s *Service) SessionsPage(ctx context.Context, p SessionsParams) (allot.Page[Session], error) {
	page, err := s.sessionsPage(ctx, p)
	if err != nil {
		return allot.Page[Session]{}, errcode.Ensure(fmt.Errorf("sessions of workspace %q: %w", p.Org, err))
	}
	return page, nil
}

// Sessions yields a workspace's sessions ordered by ID from p.Cursor on,
// reading pages of p.Limit sessions, each in a transaction of its own. It
// stops at the first error, which it yields.
func (s *Service) Sessions(ctx context.Context, p SessionsParams) iter.Seq2[Session, error] {
	return paging.All(ctx, p.Cursor, func(ctx context.Context, cursor string) (allot.Page[Session], error) {
		p.Cursor = cursor
		return s.SessionsPage(ctx, p)
	})
}

func (s *Service) sessionsPage(ctx context.Context, p SessionsParams) (allot.Page[Session], error) {
	if err := checkID("Org", p.Org); err != nil {
		return allot.Page[Session]{}, err
	}
	limit, r := paging.Limit(p.Limit)
	if r != "" {
		return allot.Page[Session]{}, invalid("Limit", "%s", r)
	}
	var after string
	if p.Cursor != "" {
		var ok bool
		if after, ok = decodeCursor(cursorSessions, p.Org, p.Cursor); !ok || input.ID(after) != "" {
			return allot.Page[Session]{}, invalid("Cursor", "%q is not a cursor of the sessions of workspace %q; give the Next of the previous page, or empty for the first", p.Cursor, p.Org)
		}
	}
	if _, err := s.require(ctx, p.Org, p.Actor, "read sessions", WorkspaceAdmin); err != nil {
		return allot.Page[Session]{}, err
	}
	var list []Session
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		list, err = tx.SessionList(ctx, SessionListParams{Org: p.Org, AfterID: after, Limit: limit + 1})
		return err
	})
	if err != nil {
		return allot.Page[Session]{}, err
	}
	var page allot.Page[Session]
	if len(list) > limit {
		list = list[:limit]
		page.Next = encodeCursor(cursorSessions, p.Org, list[len(list)-1].ID)
	}
	page.Items = list
	return page, nil
}

// LoginParams is a guest entering a session.
//
// A login is the guest's own act, not an administrator's: it carries no
// Actor and checks no role. The service that embeds passes authenticates
// the guest (ThinkTank's guests enter by the session's link with their
// e-mail address) before it calls Login; what the login may cost is the
// session's pass type's rule, which Login applies.
type LoginParams struct {
	Org      string // the workspace the login is made in; the session is looked up in it
	Session  string
	Guest    string // the guest's e-mail; compared and logged in its canonical form (input.Email)
	Location string // free text, logged as given
	// RequestID identifies the login: a retry with the same ID returns the
	// first decision and spends nothing more. Required.
	RequestID string
	// Fields are custom field values for this login's log row; they override
	// the session's. nil and empty are the same.
	Fields map[string]string
}

// Login decides a guest's login to a session under the session's pass type,
// spends what it costs and records it in the usage log, all in one
// transaction, and returns the decision. It checks no role: see LoginParams.
//
// A refused login changes nothing and returns the decision with its reason
// and a *RefusalError matching ErrRefused and the reason's sentinel
// (ErrInsufficientPasses, ErrDemoLocked, ErrUnknownSession,
// ErrMalformedGuest, ErrUnknownField, ErrMissingField). A session of another
// workspace is an unknown session. A request that is not a login at all
// (an ID input.ID refuses, text input.Text refuses) is an error matching
// ErrInvalid with a zero Decision; a request ID reused for another login is
// an error matching ErrRequestConflict.
//
// A retry with the same request ID, guest, session, location and field
// values returns the first decision, whenever it comes (with the clock moved
// on, after purchases, other logins or a change of the session's pass type),
// and changes nothing. A refused login changed nothing, so its retry decides
// anew.
//
// Any other error (storage, a cancelled context, a failed commit) comes with
// the zero Decision, which grants nothing: the login's transaction did not
// commit, or its outcome is unknown (a commit whose answer was lost). Retry
// with the same request ID to learn it: a login that did commit returns its
// decision again and spends nothing more.
func (s *Service) Login(ctx context.Context, r LoginParams) (Decision, error) {
	d, err := s.login(ctx, r)
	s.observe(ctx, "login", r.Org, r.RequestID, err)
	if err != nil {
		return d, errcode.Ensure(fmt.Errorf("login of %q to session %q: %w", r.Guest, r.Session, err))
	}
	return d, nil
}

func refuse(reason Reason, format string, args ...any) (Decision, error) {
	d := Decision{Reason: reason, Detail: fmt.Sprintf(format, args...)}
	return d, &RefusalError{Decision: d}
}

// checkLogin refuses a login request that is not a login at all.
func checkLogin(r LoginParams) error {
	if err := checkID("Org", r.Org); err != nil {
		return err
	}
	if r.RequestID == "" {
		return invalid("RequestID", "empty; choose one so the login can be retried safely")
	}
	if err := checkID("RequestID", r.RequestID); err != nil {
		return err
	}
	if err := checkID("Session", r.Session); err != nil {
		return err
	}
	if err := checkText("Location", r.Location); err != nil {
		return err
	}
	for name, v := range r.Fields {
		if err := checkText("Fields", name); err != nil {
			return err
		}
		if reason := input.Text(v); reason != "" {
			return invalid("Fields", "value %q of custom field %q %s", v, name, reason)
		}
	}
	return nil
}

func (s *Service) login(ctx context.Context, r LoginParams) (Decision, error) {
	if err := checkLogin(r); err != nil {
		return Decision{}, err
	}
	now := s.clock.Now()
	if err := checkNow(now); err != nil {
		return Decision{}, err
	}
	guest, ok := normalizeGuest(r.Guest)
	if !ok {
		d, err := refuse(ReasonMalformedGuest, "guest %q is not an e-mail address like name@example.com", r.Guest)
		s.refused(ctx, r, "", d, ledger.Instant(now))
		return d, err
	}
	c := loginCalls.Get().(*loginCall)
	c.s, c.ctx, c.r, c.guest, c.now = s, ctx, r, guest, now
	err := s.store.InTx(ctx, c.run)
	d, retry := c.d, c.retry
	// Keep nothing of this login in the pool but the room of its buffers.
	*c = loginCall{run: c.run, evs: c.evs[:0], balanceOrg: c.balanceOrg, balance: c.balance,
		state: LoginState{Fields: c.state.Fields[:0], Session: Session{Fields: c.state.Session.Fields[:0]}}}
	loginCalls.Put(c)
	if err != nil {
		var re *RefusalError
		if !errors.As(err, &re) {
			// Decided, perhaps, but not committed: nothing was granted.
			return Decision{}, err
		}
		s.refused(ctx, r, guest, d, ledger.Instant(now))
	}
	if retry {
		s.retried(ctx, "login", r.Org, r.RequestID)
	}
	return d, err
}

// loginCall is a login on its way through its transaction: the function
// InTx runs, with its arguments, and the decision it reached. Calls are
// pooled, each with its function bound once, so a login allocates no closure,
// no result and no Book.
type loginCall struct {
	s     *Service
	ctx   context.Context
	r     LoginParams
	guest string
	now   time.Time
	d     Decision
	retry bool           // the login was a retry: d is the first's
	book  ledger.Book    // the Book a spending login posts with
	evs   []events.Event // the login's events, reused
	state LoginState     // what the login loaded, its slices reused
	run   func(Tx) error // c.do

	// balance is BalanceAccount(balanceOrg), kept from one login to the
	// next: logins of one workspace build it once.
	balanceOrg string
	balance    ledger.AccountID
}

var loginCalls = sync.Pool{New: func() any {
	c := new(loginCall)
	c.run = c.do
	return c
}}

func (c *loginCall) do(tx Tx) error {
	var err error
	c.retry, c.evs = false, c.evs[:0]
	c.d, err = c.s.loginTx(c, tx)
	return err
}

func (s *Service) loginTx(c *loginCall, tx Tx) (Decision, error) {
	ctx, b, r, guest := c.ctx, &c.book, &c.r, c.guest
	// The instant the Book will act at, if the login spends.
	now := ledger.Instant(c.now)
	if c.balanceOrg != r.Org || c.balance == "" {
		c.balanceOrg, c.balance = r.Org, BalanceAccount(r.Org)
	}
	st := &c.state
	if err := tx.LoginLoad(ctx, LoginLoadParams{Org: r.Org, Session: r.Session, Guest: guest, RequestID: r.RequestID, Balance: c.balance}, st); err != nil {
		return Decision{}, err
	}
	if st.PriorFound {
		prior := &st.Prior
		if prior.Session != r.Session || prior.User != guest || prior.Location != r.Location || !fieldsAgree(prior.Fields, r.Fields) {
			return Decision{}, fmt.Errorf("%w: request %q was a login of %q to session %q; use a new request ID for a new login", ErrRequestConflict, r.RequestID, prior.User, prior.Session)
		}
		c.retry = true
		return prior.Decision(), nil
	}
	if !st.SessionFound {
		return refuse(ReasonUnknownSession, "workspace %q has no session %q; check the session ID", r.Org, r.Session)
	}
	sess := st.Session
	fields, err := mergeFields(st.Fields, sess.Fields, r.Fields)
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			return refuse(fe.reason(), "%s", fe.detail())
		}
		return Decision{}, err
	}
	policy := s.policies[sess.PassType]
	if policy == nil {
		return Decision{}, invalid("PassType", "session %q has pass type %q, which this service does not know; the service must add a policy for it", sess.ID, sess.PassType)
	}

	// The guest's access record, locked by the load, orders concurrent
	// logins of one guest to one session.
	acc, hasAccess := st.Access, st.AccessFound
	d, err := check(now, sess.PassType, policy.Decide(now, State{Session: sess, Guest: guest, Access: acc, FirstLogin: sess.FirstLogin}))
	if err != nil {
		return Decision{}, err
	}
	if !d.Allowed {
		return d, &RefusalError{Decision: d}
	}
	if r := input.Time(d.AccessUntil); r != "" {
		return Decision{}, invalid("clock", "session %q would grant access until a time no store keeps: %s", sess.ID, r)
	}
	if r := input.Time(d.AccessFrom); r != "" {
		return Decision{}, invalid("clock", "session %q would grant access from a time no store keeps: %s", sess.ID, r)
	}
	if r := input.Time(d.LocksAt); r != "" {
		return Decision{}, invalid("clock", "session %q would lock at a time no store keeps: %s", sess.ID, r)
	}

	u := Usage{
		Org:         r.Org,
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
	var spent int64 // the workspace's passes spent after a spending login
	if d.Passes > 0 {
		id, debit, credit := spendIDs(r.Org, r.RequestID)
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
		if u.BalanceAfter, err = passCount(t.DebitBalance); err != nil {
			return Decision{}, err
		}
		if spent, err = passCount(t.CreditBalance); err != nil {
			return Decision{}, err
		}
	} else if st.BalanceFound {
		if u.BalanceAfter, err = available(st.Balance); err != nil {
			return Decision{}, err
		}
	}
	d.Balance = u.BalanceAfter

	next := Access{Org: r.Org, Session: sess.ID, Guest: guest, Start: d.AccessFrom, Until: d.AccessUntil}
	switch {
	case !hasAccess:
		err = tx.AccessInsert(ctx, next)
	case !acc.Start.Equal(next.Start) || !acc.Until.Equal(next.Until):
		err = tx.AccessUpdate(ctx, next)
	}
	if err != nil {
		return Decision{}, err
	}
	env := events.Event{Org: r.Org, At: u.At, Actor: guest, RequestID: r.RequestID}
	e := env
	e.Type = events.PassesAdmitted
	e.Payload = events.GuestAdmitted{Session: sess.ID, Guest: guest, PassType: string(sess.PassType), Passes: d.Passes,
		InWindow: d.InWindow, Until: d.AccessUntil, Balance: d.Balance}
	c.evs = append(c.evs, e)
	if sess.FirstLogin.IsZero() {
		sess.FirstLogin = now
		if err := tx.SessionUpdate(ctx, sess); err != nil {
			return Decision{}, err
		}
		if d.Demo {
			e := env
			e.Type, e.Payload = events.PassesDemoOpened, events.DemoOpened{Session: sess.ID, LocksAt: d.LocksAt}
			c.evs = append(c.evs, e)
		}
	}
	if d.Passes > 0 && len(s.thresholdPcts) > 0 {
		purchased := spent + d.Balance
		c.evs = s.thresholds(c.evs, env, spent-d.Passes, purchased, spent, purchased)
	}
	if err := tx.Emit(ctx, c.evs...); err != nil {
		return Decision{}, err
	}
	if err := tx.UsageAppend(ctx, u); err != nil {
		if errors.Is(err, ledger.ErrAlreadyExists) {
			// Not there when this transaction looked: a concurrent login
			// with the same request ID committed first.
			return Decision{}, translate(errcode.New(errcode.Unavailable, fmt.Sprintf("passes: a concurrent login with request ID %q finished first; retry with it to read its decision", r.RequestID)), err)
		}
		return Decision{}, err
	}
	return d, nil
}

// spendIDs returns the ID of a login's spend,
// "passes/<workspace>/login/<request ID>", and the accounts it moves passes
// between, BalanceAccount(workspace) and SpentAccount(workspace), each built
// as input.Join builds it. When neither ID holds a character Join escapes
// (the usual case) they are cut from one string: one allocation rather than
// three on every spending login.
func spendIDs(org, requestID string) (id ledger.TransferID, debit, credit ledger.AccountID) {
	if strings.ContainsAny(org, "%/") || strings.ContainsAny(requestID, "%/") {
		return ledger.TransferID(input.Join("passes", org, "login", requestID)), BalanceAccount(org), SpentAccount(org)
	}
	all := "passes/" + org + "/balance" + "passes/" + org + "/spent" + "passes/" + org + "/login/" + requestID
	spent := len("passes/") + len(org) + len("/balance")
	login := spent + len("passes/") + len(org) + len("/spent")
	return ledger.TransferID(all[login:]), ledger.AccountID(all[:spent]), ledger.AccountID(all[spent:login])
}

// spendFailed is the outcome of a login whose spend the ledger refused: a
// refusal if the balance cannot pay it, an error otherwise.
func (s *Service) spendFailed(sess Session, d Decision, requestID string, err error) (Decision, error) {
	var ib *ledger.InsufficientBalanceError
	switch {
	case errors.As(err, &ib):
		available, cerr := passCount(ib.Available)
		if cerr != nil {
			return Decision{}, cerr
		}
		return s.short(sess, d, available)
	case errors.Is(err, ledger.ErrNotFound):
		return s.short(sess, d, 0) // the workspace never bought
	case errors.Is(err, ledger.ErrConflict):
		return Decision{}, translate(fmt.Errorf("%w: request %q already spent passes differently; use a new request ID for a new login", ErrRequestConflict, requestID), err)
	}
	return Decision{}, ledgerErr(err, "the ledger refused the spend of login %q to session %q", requestID, sess.ID)
}

// ledgerErrs are the ledger's refusals: a ledger error names the ledger's
// own account and transfer IDs, which are no caller's business.
var ledgerErrs = []error{
	ledger.ErrInvalid, ledger.ErrConflict, ledger.ErrNotFound, ledger.ErrAlreadyExists,
	ledger.ErrInsufficientBalance, ledger.ErrHoldNotPending,
}

// ledgerErr returns a refusal of the ledger the service did not expect (the
// workspace's books are not as the service keeps them) as an internal error
// told in the workspace's words, with the ledger's error behind it for
// errors.Is and errors.As; any other error (a store's, a context's) as it is.
func ledgerErr(err error, format string, args ...any) error {
	for _, le := range ledgerErrs {
		if errors.Is(err, le) {
			return translate(errcode.New(errcode.Internal, "passes: "+fmt.Sprintf(format, args...)), err)
		}
	}
	return err
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
