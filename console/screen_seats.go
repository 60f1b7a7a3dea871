package console

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/seats"
)

type seatsData struct {
	Tab          string // "overview", "live" or "past"
	OnlyMissing  bool
	Pools        []poolView
	History      []seats.Transaction
	Events       []seats.EventEntitlements
	Next         string
	NextURL      string
	MissingCount int // events of the tab missing entitlements
	Available    map[seats.Product]int64
	SeatsFree    int64
	RequestID    string
	Export       string
}

type poolView struct {
	seats.Pool
	Available    int64
	Transactions []seats.Transaction
}

func (c *Console) seatsScreen(w http.ResponseWriter, r *http.Request) { c.showSeats(w, r, nil) }

func (c *Console) showSeats(w http.ResponseWriter, r *http.Request, failed *Problem) {
	ctx, id, svc := r.Context(), identityOf(r.Context()), c.opts.Seats
	v := c.view(r, "seats", "Entitlements")
	v.Problem = failed
	q := r.URL.Query()
	d := &seatsData{Tab: q.Get("tab"), OnlyMissing: q.Get("only_missing") == "on" || q.Get("only_missing") == "true",
		RequestID: requestID(), Available: map[seats.Product]int64{}}
	if d.Tab != "live" && d.Tab != "past" {
		d.Tab = "overview"
	}
	v.Data = d
	pools, err := svc.Overview(ctx, seats.OverviewParams{Org: id.Org, Actor: id.Actor})
	if err != nil {
		c.failScreen(w, r, v, err)
		return
	}
	for _, p := range pools {
		d.Available[p.Product] = p.Purchased - p.Assigned
		if p.Product == seats.Seats {
			d.SeatsFree = p.Purchased - p.Assigned
		}
	}
	if d.Tab == "overview" {
		for _, p := range pools {
			pv := poolView{Pool: p, Available: p.Purchased - p.Assigned}
			pg, err := svc.HistoryPage(ctx, seats.HistoryParams{Org: id.Org, Actor: id.Actor, Product: p.Product, Limit: 20})
			if err != nil {
				c.failScreen(w, r, v, err)
				return
			}
			pv.Transactions = pg.Items
			d.Pools = append(d.Pools, pv)
		}
		pg, err := svc.HistoryPage(ctx, seats.HistoryParams{Org: id.Org, Actor: id.Actor, Cursor: q.Get("cursor"), Limit: 50})
		if err != nil {
			c.failScreen(w, r, v, err)
			return
		}
		d.History, d.Next = pg.Items, pg.Next
		d.Export = c.opts.Prefix + "/api/seats/overview.xlsx"
		if d.Next != "" {
			d.NextURL = c.opts.Prefix + "/seats?" + url.Values{"tab": {"overview"}, "cursor": {d.Next}}.Encode()
		}
		c.render(w, r, "seats", v)
		return
	}
	status := []seats.Status{seats.Status(d.Tab)}
	pg, err := svc.EventsPage(ctx, seats.EventsParams{Org: id.Org, Actor: id.Actor, Statuses: status,
		OnlyMissing: d.OnlyMissing, Cursor: q.Get("cursor"), Limit: 50})
	if err != nil {
		c.failScreen(w, r, v, err)
		return
	}
	d.Events, d.Next = pg.Items, pg.Next
	for ev, err := range svc.Events(ctx, seats.EventsParams{Org: id.Org, Actor: id.Actor, Statuses: status, OnlyMissing: true, Limit: allot.MaxLimit}) {
		if err != nil {
			c.failScreen(w, r, v, err)
			return
		}
		_ = ev
		d.MissingCount++
	}
	d.Export = c.opts.Prefix + "/api/seats/events.xlsx?" + url.Values{"status": {d.Tab}}.Encode()
	if d.Next != "" {
		nq := url.Values{"tab": {d.Tab}, "cursor": {d.Next}}
		if d.OnlyMissing {
			nq.Set("only_missing", "on")
		}
		d.NextURL = c.opts.Prefix + "/seats?" + nq.Encode()
	}
	c.render(w, r, "seats", v)
}

// seatsTransfer is the transfer dialog's form: seats with a quantity, or a
// module without one.
func (c *Console) seatsTransfer(w http.ResponseWriter, r *http.Request) {
	id, svc := identityOf(r.Context()), c.opts.Seats
	event, tab := r.PostFormValue("event"), r.PostFormValue("tab")
	var notice string
	var err error
	if module := r.PostFormValue("module"); module != "" {
		_, err = svc.TransferModule(r.Context(), seats.TransferModuleParams{Org: id.Org, Actor: id.Actor, Event: event,
			Module: module, RequestID: r.PostFormValue("request_id")})
		notice = "Transferred the module " + module + " to " + event
	} else {
		var n int64
		n, err = strconv.ParseInt(r.PostFormValue("quantity"), 10, 64)
		if err != nil {
			err = formError("quantity", "give a whole number of seats")
		} else {
			_, err = svc.TransferSeats(r.Context(), seats.TransferSeatsParams{Org: id.Org, Actor: id.Actor, Event: event,
				Quantity: n, RequestID: r.PostFormValue("request_id")})
			notice = "Transferred " + plural(n, "seat") + " to " + event
		}
	}
	if err != nil {
		p := problemOf(err)
		r.URL.RawQuery = url.Values{"tab": {tab}}.Encode()
		c.showSeats(w, r, &p)
		return
	}
	q := url.Values{"tab": {tab}}
	if r.PostFormValue("only_missing") == "on" {
		q.Set("only_missing", "on")
	}
	c.done(w, r, "seats", q, notice)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if word == "pass" {
		return itoa(n) + " passes"
	}
	return itoa(n) + " " + word + "s"
}
