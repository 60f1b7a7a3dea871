package console

import (
	"net/http"
	"net/url"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/licenses"
)

type licensesData struct {
	Summary   licenses.Summary
	Teams     []licenses.Team
	Members   []licenses.Member
	State     string
	Next      string
	NextURL   string
	RequestID string
}

func (c *Console) licensesScreen(w http.ResponseWriter, r *http.Request) { c.showLicenses(w, r, nil) }

func (c *Console) showLicenses(w http.ResponseWriter, r *http.Request, failed *Problem) {
	ctx, id, svc := r.Context(), identityOf(r.Context()), c.opts.Licenses
	v := c.view(r, "licenses", "Licenses")
	v.Problem = failed
	q := r.URL.Query()
	d := &licensesData{State: q.Get("state"), RequestID: requestID()}
	v.Data = d
	var err error
	if d.Summary, err = svc.Summary(ctx, licenses.SummaryParams{Org: id.Org, Actor: id.Actor}); err != nil {
		c.failScreen(w, r, v, err)
		return
	}
	for t, err := range svc.Teams(ctx, licenses.TeamsParams{Org: id.Org, Actor: id.Actor, Limit: allot.MaxLimit}) {
		if err != nil {
			c.failScreen(w, r, v, err)
			return
		}
		d.Teams = append(d.Teams, t)
	}
	pg, err := svc.MembersPage(ctx, licenses.MembersParams{Org: id.Org, Actor: id.Actor, State: licenses.State(d.State),
		Cursor: q.Get("cursor"), Limit: 50})
	if err != nil {
		c.failScreen(w, r, v, err)
		return
	}
	d.Members, d.Next = pg.Items, pg.Next
	if d.Next != "" {
		d.NextURL = c.opts.Prefix + "/licenses?" + url.Values{"state": {d.State}, "cursor": {d.Next}}.Encode()
	}
	c.render(w, r, "licenses", v)
}

func (c *Console) licensesAct(w http.ResponseWriter, r *http.Request, act func(id Identity) (string, error)) {
	notice, err := act(identityOf(r.Context()))
	if err != nil {
		p := problemOf(err)
		r.URL.RawQuery = ""
		c.showLicenses(w, r, &p)
		return
	}
	c.done(w, r, "licenses", nil, notice)
}

func (c *Console) licensesInvite(w http.ResponseWriter, r *http.Request) {
	c.licensesAct(w, r, func(id Identity) (string, error) {
		m, err := c.opts.Licenses.Invite(r.Context(), licenses.InviteParams{Org: id.Org, Actor: id.Actor,
			Team: r.PostFormValue("team"), Email: r.PostFormValue("email"), RequestID: r.PostFormValue("request_id")})
		return "Invited " + m.Email + " to " + r.PostFormValue("team") + ": " + string(m.State), err
	})
}

func (c *Console) licensesRemove(w http.ResponseWriter, r *http.Request) {
	c.licensesAct(w, r, func(id Identity) (string, error) {
		m, err := c.opts.Licenses.Remove(r.Context(), licenses.RemoveParams{Org: id.Org, Actor: id.Actor,
			Team: r.PostFormValue("team"), Email: r.PostFormValue("email"), RequestID: r.PostFormValue("request_id")})
		return "Removed " + m.Email + " from " + r.PostFormValue("team") + ": " + string(m.State), err
	})
}

func (c *Console) licensesDelete(w http.ResponseWriter, r *http.Request) {
	c.licensesAct(w, r, func(id Identity) (string, error) {
		m, err := c.opts.Licenses.Delete(r.Context(), licenses.DeleteParams{Org: id.Org, Actor: id.Actor,
			Email: r.PostFormValue("email"), RequestID: r.PostFormValue("request_id")})
		return "Deleted " + m.Email + ": the license is back in the pool", err
	})
}
