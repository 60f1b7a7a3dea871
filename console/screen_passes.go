package console

import (
	"net/http"
	"net/url"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/passes"
)

type passesData struct {
	Balance          int64
	Fields           []passes.FieldDef
	Sessions         []passes.Session
	Rows             []passes.Usage
	Next             string
	From, To         string // the filter's dates, as the inputs show them
	Session          string
	Internal         int64 // passes spent by internal sessions in the range
	External         int64
	Export           string // the CSV download's URL
	NextURL          string
	RequestID        string
	LoginSession     string
	LoginLocation    string
	ShownFieldValues [][]string // per row, the custom field values in column order
}

func (c *Console) passesScreen(w http.ResponseWriter, r *http.Request) {
	c.showPasses(w, r, nil)
}

func (c *Console) showPasses(w http.ResponseWriter, r *http.Request, failed *Problem) {
	ctx, id, svc := r.Context(), identityOf(r.Context()), c.opts.Passes
	v := c.view(r, "passes", "Session Passes")
	v.Problem = failed
	q := r.URL.Query()
	d := &passesData{From: q.Get("from"), To: q.Get("to"), Session: q.Get("session"), RequestID: requestID()}
	v.Data = d
	var err error
	if d.Balance, err = svc.Balance(ctx, passes.BalanceParams{Org: id.Org, Actor: id.Actor}); err != nil {
		c.failScreen(w, r, v, err)
		return
	}
	if d.Fields, err = svc.Fields(ctx, passes.FieldsParams{Org: id.Org, Actor: id.Actor}); err != nil {
		c.failScreen(w, r, v, err)
		return
	}
	for s, err := range svc.Sessions(ctx, passes.SessionsParams{Org: id.Org, Actor: id.Actor, Limit: allot.MaxLimit}) {
		if err != nil {
			c.failScreen(w, r, v, err)
			return
		}
		d.Sessions = append(d.Sessions, s)
	}
	p := passes.LogParams{Org: id.Org, Actor: id.Actor, Session: d.Session, Cursor: q.Get("cursor"), Limit: 50}
	from, err1 := parseDate(d.From)
	to, err2 := parseDate(d.To)
	if err1 != nil || err2 != nil {
		c.failScreen(w, r, v, formError("from", "give dates as YYYY-MM-DD"))
		return
	}
	p.From = from
	if !to.IsZero() {
		p.To = to.Add(24 * time.Hour) // the To date is included
	}
	pg, err := svc.LogPage(ctx, p)
	if err != nil {
		c.failScreen(w, r, v, err)
		return
	}
	d.Rows, d.Next = pg.Items, pg.Next
	for _, row := range d.Rows {
		vals := make([]string, len(d.Fields))
		for i, f := range d.Fields {
			for _, fv := range row.Fields {
				if fv.Name == f.Name {
					vals[i] = fv.Value
				}
			}
		}
		d.ShownFieldValues = append(d.ShownFieldValues, vals)
	}
	all := p
	all.Cursor, all.Limit = "", allot.MaxLimit
	for row, err := range svc.Log(ctx, all) {
		if err != nil {
			c.failScreen(w, r, v, err)
			return
		}
		if row.External {
			d.External += row.Passes
		} else {
			d.Internal += row.Passes
		}
	}
	filter := url.Values{}
	for k, val := range map[string]string{"session": d.Session} {
		if val != "" {
			filter.Set(k, val)
		}
	}
	if !p.From.IsZero() {
		filter.Set("from", p.From.Format(time.RFC3339))
	}
	if !p.To.IsZero() {
		filter.Set("to", p.To.Format(time.RFC3339))
	}
	d.Export = c.opts.Prefix + "/api/passes/log.csv?" + filter.Encode()
	if d.Next != "" {
		nq := url.Values{"from": {d.From}, "to": {d.To}, "session": {d.Session}, "cursor": {d.Next}}
		d.NextURL = c.opts.Prefix + "/passes?" + nq.Encode()
	}
	c.render(w, r, "passes", v)
}

// passesLogin enters a session as the acting guest, from the screen's form.
func (c *Console) passesLogin(w http.ResponseWriter, r *http.Request) {
	id := identityOf(r.Context())
	dec, err := c.opts.Passes.Login(r.Context(), passes.LoginParams{Org: id.Org, Session: r.PostFormValue("session"),
		Guest: id.Actor, Location: r.PostFormValue("location"), RequestID: r.PostFormValue("request_id")})
	if err != nil {
		p := problemOf(err)
		c.showPasses(w, r, &p)
		return
	}
	notice := "Entered " + r.PostFormValue("session") + ": " + plural(dec.Passes, "pass") + " spent, balance " + itoa(dec.Balance)
	if dec.InWindow {
		notice = "Entered " + r.PostFormValue("session") + " inside the access window: nothing spent"
	}
	c.done(w, r, "passes", url.Values{"session": {r.PostFormValue("session")}}, notice)
}
