package console

import (
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/licenses"
)

type teamBody struct {
	Team string `json:"team"`
}

type inviteBody struct {
	Team      string    `json:"team"`
	Email     string    `json:"email"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

type reassignBody struct {
	To        string    `json:"to"`
	Team      string    `json:"team,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

func (con *Console) licensesRoutes() []route {
	svc := con.opts.Licenses
	if svc == nil {
		return nil
	}
	return []route{
		{Method: "GET", Path: "/api/licenses/summary", Tag: "licenses", Summary: "Purchased, active, pending, unassigned, available, and the distribution by team",
			Resp: typeOf[licenses.Summary](),
			serve: func(c *call) (any, error) {
				return svc.Summary(c.ctx(), licenses.SummaryParams{Org: c.id.Org, Actor: c.id.Actor})
			}},
		{Method: "POST", Path: "/api/licenses/purchases", Tag: "licenses", Summary: "Add licenses (the vendor's act)",
			Body: typeOf[purchaseBody](), Resp: typeOf[allot.Purchase](), Key: true,
			serve: func(c *call) (any, error) {
				var b purchaseBody
				if err := c.decode(&b); err != nil {
					return nil, err
				}
				return svc.Purchase(c.ctx(), licenses.PurchaseParams{Org: c.id.Org, Actor: c.id.Actor,
					Quantity: b.Quantity, Subscription: b.Subscription, RequestID: c.key})
			}},
		{Method: "POST", Path: "/api/licenses/reductions", Tag: "licenses", Summary: "Take back available licenses (the vendor's act)",
			Body: typeOf[purchaseBody](), Resp: typeOf[allot.Purchase](), Key: true,
			serve: func(c *call) (any, error) {
				var b purchaseBody
				if err := c.decode(&b); err != nil {
					return nil, err
				}
				return svc.Reduce(c.ctx(), licenses.ReduceParams{Org: c.id.Org, Actor: c.id.Actor,
					Quantity: b.Quantity, Subscription: b.Subscription, RequestID: c.key})
			}},
		{Method: "GET", Path: "/api/licenses/teams", Tag: "licenses", Summary: "Teams with their active and pending members",
			Query: []queryParam{qCursor, qLimit}, Resp: typeOf[licenses.Team](), Page: true,
			serve: func(c *call) (any, error) {
				cur, lim, err := c.paging()
				if err != nil {
					return nil, err
				}
				return page(svc.TeamsPage(c.ctx(), licenses.TeamsParams{Org: c.id.Org, Actor: c.id.Actor, Cursor: cur, Limit: lim}))
			}},
		{Method: "POST", Path: "/api/licenses/teams", Tag: "licenses", Summary: "Create a team",
			Body: typeOf[teamBody](), Resp: typeOf[licenses.Team](),
			serve: func(c *call) (any, error) {
				var b teamBody
				if err := c.decode(&b); err != nil {
					return nil, err
				}
				return svc.CreateTeam(c.ctx(), licenses.CreateTeamParams{Org: c.id.Org, Actor: c.id.Actor, Team: b.Team})
			}},
		{Method: "GET", Path: "/api/licenses/members", Tag: "licenses", Summary: "Members with their states and teams",
			Query: []queryParam{{"state", "string", "active, pending, unassigned or expired; empty: all"},
				{"team", "string", "only this team's members"}, qCursor, qLimit},
			Resp: typeOf[licenses.Member](), Page: true,
			serve: func(c *call) (any, error) {
				cur, lim, err := c.paging()
				if err != nil {
					return nil, err
				}
				return page(svc.MembersPage(c.ctx(), licenses.MembersParams{Org: c.id.Org, Actor: c.id.Actor,
					State: licenses.State(c.str("state")), Team: c.str("team"), Cursor: cur, Limit: lim}))
			}},
		{Method: "GET", Path: "/api/licenses/summary.csv", Tag: "licenses", Summary: "The summary as CSV",
			File: csvType,
			serve: func(c *call) (any, error) {
				t, err := svc.SummaryTable(c.ctx(), licenses.SummaryParams{Org: c.id.Org, Actor: c.id.Actor})
				return tableDownload("licenses", t, err)
			}},
		{Method: "GET", Path: "/api/licenses/teams.csv", Tag: "licenses", Summary: "The distribution by team as CSV",
			File: csvType,
			serve: func(c *call) (any, error) {
				t, err := svc.TeamsTable(c.ctx(), licenses.TeamsParams{Org: c.id.Org, Actor: c.id.Actor})
				return tableDownload("teams", t, err)
			}},
		{Method: "GET", Path: "/api/licenses/members.csv", Tag: "licenses", Summary: "The members with their states as CSV",
			Query: []queryParam{{"state", "string", "active, pending, unassigned or expired; empty: all"},
				{"team", "string", "only this team's members"}},
			File: csvType,
			serve: func(c *call) (any, error) {
				t, err := svc.MembersTable(c.ctx(), licenses.MembersParams{Org: c.id.Org, Actor: c.id.Actor,
					State: licenses.State(c.str("state")), Team: c.str("team")})
				return tableDownload("members", t, err)
			}},
		{Method: "GET", Path: "/api/licenses/members/{email}", Tag: "licenses", Summary: "One member",
			Resp: typeOf[licenses.Member](),
			serve: func(c *call) (any, error) {
				return svc.Member(c.ctx(), licenses.MemberParams{Org: c.id.Org, Actor: c.id.Actor, Email: c.r.PathValue("email")})
			}},
		{Method: "DELETE", Path: "/api/licenses/members/{email}", Tag: "licenses", Summary: "Delete the member: its license goes back to the pool",
			Resp: typeOf[licenses.Member](), Key: true,
			serve: func(c *call) (any, error) {
				return svc.Delete(c.ctx(), licenses.DeleteParams{Org: c.id.Org, Actor: c.id.Actor, Email: c.r.PathValue("email"), RequestID: c.key})
			}},
		{Method: "GET", Path: "/api/licenses/members/{email}/history", Tag: "licenses", Summary: "The member's license history (ledger entries)",
			Query: []queryParam{qCursor, qLimit}, Resp: typeOf[ledger.Entry](), Page: true,
			serve: func(c *call) (any, error) {
				cur, lim, err := c.paging()
				if err != nil {
					return nil, err
				}
				return page(svc.HistoryPage(c.ctx(), licenses.HistoryParams{Org: c.id.Org, Actor: c.id.Actor,
					Email: c.r.PathValue("email"), Cursor: cur, Limit: lim}))
			}},
		{Method: "POST", Path: "/api/licenses/invitations", Tag: "licenses", Summary: "Invite a member to a team: a new member's license is pending until accepted",
			Body: typeOf[inviteBody](), Resp: typeOf[licenses.Member](), Key: true,
			serve: func(c *call) (any, error) {
				var b inviteBody
				if err := c.decode(&b); err != nil {
					return nil, err
				}
				return svc.Invite(c.ctx(), licenses.InviteParams{Org: c.id.Org, Actor: c.id.Actor, Team: b.Team,
					Email: b.Email, RequestID: c.key, ExpiresAt: b.ExpiresAt})
			}},
		{Method: "POST", Path: "/api/licenses/members/{email}/accept", Tag: "licenses", Summary: "Accept one's own invitation: the license becomes active",
			Resp: typeOf[licenses.Member](),
			serve: func(c *call) (any, error) {
				return svc.Accept(c.ctx(), licenses.AcceptParams{Org: c.id.Org, Actor: c.id.Actor, Email: c.r.PathValue("email")})
			}},
		{Method: "POST", Path: "/api/licenses/members/{email}/reassign", Tag: "licenses", Summary: "Delete the member and invite another in its place",
			Body: typeOf[reassignBody](), Resp: typeOf[licenses.Member](), Key: true,
			serve: func(c *call) (any, error) {
				var b reassignBody
				if err := c.decode(&b); err != nil {
					return nil, err
				}
				return svc.Reassign(c.ctx(), licenses.ReassignParams{Org: c.id.Org, Actor: c.id.Actor, From: c.r.PathValue("email"),
					To: b.To, Team: b.Team, RequestID: c.key, ExpiresAt: b.ExpiresAt})
			}},
		{Method: "DELETE", Path: "/api/licenses/teams/{team}/members/{email}", Tag: "licenses", Summary: "Remove the member from the team (it keeps its license)",
			Resp: typeOf[licenses.Member](), Key: true,
			serve: func(c *call) (any, error) {
				return svc.Remove(c.ctx(), licenses.RemoveParams{Org: c.id.Org, Actor: c.id.Actor, Team: c.r.PathValue("team"),
					Email: c.r.PathValue("email"), RequestID: c.key})
			}},
	}
}

func (c *Console) apiRoutes() []route {
	var rs []route
	rs = append(rs, c.passesRoutes()...)
	rs = append(rs, c.seatsRoutes()...)
	rs = append(rs, c.licensesRoutes()...)
	return withSpreadsheets(rs)
}
