package licenses

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/table"
)

// SummaryTable returns Powtoon's license page as a table of one row:
// Purchased, Active, Pending, Unassigned and Available, as Summary reads
// them when the row is read. It checks Summary's role (OrgAdmin) when it is
// made.
func (s *Service) SummaryTable(ctx context.Context, p SummaryParams) (table.Table, error) {
	if err := s.checkSummary(ctx, p); err != nil {
		return table.Table{}, wrap(err, p.Org, "summary of %q", p.Org)
	}
	return table.Table{
		Name: "Licenses",
		Columns: []table.Column{
			{Name: "Purchased", Kind: table.Integer},
			{Name: "Active", Kind: table.Integer},
			{Name: "Pending", Kind: table.Integer},
			{Name: "Unassigned", Kind: table.Integer},
			{Name: "Available", Kind: table.Integer},
		},
		Rows: func(yield func([]string, error) bool) {
			var sum Summary
			err := s.store.InTx(ctx, func(tx Tx) error {
				o := op{ctx: ctx, tx: tx, now: ledger.Instant(s.clock.Now())}
				if err := o.readOrg(p.Org); err != nil {
					return err
				}
				sum = o.totals()
				return nil
			})
			if err != nil {
				yield(nil, wrap(err, p.Org, "summary of %q", p.Org))
				return
			}
			yield([]string{itoa(sum.Purchased), itoa(sum.Active), itoa(sum.Pending), itoa(sum.Unassigned), itoa(sum.Available)}, nil)
		},
	}, nil
}

// TeamsTable returns the license page's distribution by team, a row per
// team ordered by ID: Team, Active, Pending, as TeamsPage lists them (from
// p.Cursor on), read a page of p.Limit teams at a time. It checks
// TeamsPage's role (OrgAdmin) when it is made.
func (s *Service) TeamsTable(ctx context.Context, p TeamsParams) (table.Table, error) {
	if _, _, _, err := s.checkTeams(ctx, p); err != nil {
		return table.Table{}, wrap(err, p.Org, "list teams of %q", p.Org)
	}
	return table.Table{
		Name: "Teams",
		Columns: []table.Column{
			{Name: "Team", Kind: table.Text},
			{Name: "Active", Kind: table.Integer},
			{Name: "Pending", Kind: table.Integer},
		},
		Rows: func(yield func([]string, error) bool) {
			for t, err := range s.Teams(ctx, p) {
				if err != nil {
					yield(nil, err)
					return
				}
				if !yield([]string{t.ID, itoa(t.Active), itoa(t.Pending)}, nil) {
					return
				}
			}
		},
	}, nil
}

// MembersTable returns the members page as a table, a row per member
// ordered by e-mail: Email, State, Teams (comma-separated), Invited by,
// Invited at, Accepted at and Expires at (empty when unset). The members
// page's filters apply (p.State, p.Team, from p.Cursor on), and its rows
// are read a page of p.Limit members at a time, each as it reads when its
// page is read. It checks MembersPage's role (OrgAdmin, or a Team Admin of
// p.Team) when it is made.
func (s *Service) MembersTable(ctx context.Context, p MembersParams) (table.Table, error) {
	if _, _, _, err := s.checkMembers(ctx, p); err != nil {
		return table.Table{}, wrap(err, p.Org, "list members of %q", p.Org)
	}
	return table.Table{
		Name: "Members",
		Columns: []table.Column{
			{Name: "Email", Kind: table.Text},
			{Name: "State", Kind: table.Text},
			{Name: "Teams", Kind: table.Text},
			{Name: "Invited by", Kind: table.Text},
			{Name: "Invited at", Kind: table.Time},
			{Name: "Accepted at", Kind: table.Time},
			{Name: "Expires at", Kind: table.Time},
		},
		Rows: func(yield func([]string, error) bool) {
			for m, err := range s.Members(ctx, p) {
				if err != nil {
					yield(nil, err)
					return
				}
				row := []string{m.Email, string(m.State), strings.Join(m.Teams, ", "), m.InvitedBy,
					timeCell(m.InvitedAt), timeCell(m.AcceptedAt), timeCell(m.ExpiresAt)}
				if !yield(row, nil) {
					return
				}
			}
		},
	}, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// timeCell writes an instant as a Time cell: RFC 3339 in UTC, or empty
// for the zero time.
func timeCell(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
