package console

import (
	"strings"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/seats"
)

type seatsPurchaseBody struct {
	Product      string `json:"product"` // "seat" or "module:<name>"
	Quantity     int64  `json:"quantity"`
	Subscription string `json:"subscription,omitempty"`
}

type eventBody struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Start        time.Time `json:"start"`
	End          time.Time `json:"end"`
	Participants int64     `json:"participants"`
	Modules      []string  `json:"modules,omitempty"`
}

type participantsBody struct {
	Participants int64 `json:"participants"`
}

type modulesBody struct {
	Modules []string `json:"modules"`
}

type seatTransferBody struct {
	Quantity int64 `json:"quantity"`
}

type moduleTransferBody struct {
	Module string `json:"module"`
}

var (
	seatsEventsQuery = []queryParam{
		{"status", "string", "upcoming, live or past; several separated by commas; empty: all"},
		{"only_missing", "boolean", "only the events missing seats or modules"},
	}
	seatsHistoryQuery = []queryParam{
		{"product", "string", `only this product's transactions: "seat" or "module:<name>"`},
		{"event", "string", "only the transfers to this event"},
		{"from", "date-time", "posted at or after this time"},
		{"to", "date-time", "posted before this time"},
	}
)

func (c *call) eventsParams() (seats.EventsParams, error) {
	p := seats.EventsParams{Org: c.id.Org, Actor: c.id.Actor}
	for s := range strings.SplitSeq(c.str("status"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			p.Statuses = append(p.Statuses, seats.Status(s))
		}
	}
	var err error
	if p.OnlyMissing, err = c.bool("only_missing"); err != nil {
		return p, err
	}
	p.Cursor, p.Limit, err = c.paging()
	return p, err
}

func (c *call) seatsHistoryParams() (seats.HistoryParams, error) {
	p := seats.HistoryParams{Org: c.id.Org, Actor: c.id.Actor, Product: seats.Product(c.str("product")), Event: c.str("event")}
	var err error
	if p.From, err = c.time("from"); err != nil {
		return p, err
	}
	if p.To, err = c.time("to"); err != nil {
		return p, err
	}
	p.Cursor, p.Limit, err = c.paging()
	return p, err
}

func (con *Console) seatsRoutes() []route {
	svc := con.opts.Seats
	if svc == nil {
		return nil
	}
	return []route{
		{Method: "GET", Path: "/api/seats/overview", Tag: "seats", Summary: "Per product: purchased and assigned",
			Resp: typeOf[seats.Pool](), Page: true,
			serve: func(c *call) (any, error) {
				return items(svc.Overview(c.ctx(), seats.OverviewParams{Org: c.id.Org, Actor: c.id.Actor}))
			}},
		{Method: "GET", Path: "/api/seats/overview.csv", Tag: "seats", Summary: "The overview as CSV",
			File: csvType,
			serve: func(c *call) (any, error) {
				t, err := svc.OverviewTable(c.ctx(), seats.OverviewParams{Org: c.id.Org, Actor: c.id.Actor})
				return tableDownload("overview", t, err)
			}},
		{Method: "POST", Path: "/api/seats/purchases", Tag: "seats", Summary: "Record a purchase of seats or a module (the vendor's act)",
			Body: typeOf[seatsPurchaseBody](), Resp: typeOf[allot.Purchase](), Key: true,
			serve: func(c *call) (any, error) {
				var b seatsPurchaseBody
				if err := c.decode(&b); err != nil {
					return nil, err
				}
				return svc.Purchase(c.ctx(), seats.PurchaseParams{Org: c.id.Org, Actor: c.id.Actor, Product: seats.Product(b.Product),
					Quantity: b.Quantity, Subscription: b.Subscription, RequestID: c.key})
			}},
		{Method: "GET", Path: "/api/seats/history", Tag: "seats", Summary: "Every transaction: purchases, transfers, automatic assignments",
			Query: append(seatsHistoryQuery, qCursor, qLimit), Resp: typeOf[seats.Transaction](), Page: true,
			serve: func(c *call) (any, error) {
				p, err := c.seatsHistoryParams()
				if err != nil {
					return nil, err
				}
				return page(svc.HistoryPage(c.ctx(), p))
			}},
		{Method: "GET", Path: "/api/seats/history.csv", Tag: "seats", Summary: "The transactions as CSV",
			Query: seatsHistoryQuery, File: csvType,
			serve: func(c *call) (any, error) {
				p, err := c.seatsHistoryParams()
				if err != nil {
					return nil, err
				}
				p.Cursor, p.Limit = "", 0
				t, err := svc.HistoryTable(c.ctx(), p)
				return tableDownload("transactions", t, err)
			}},
		{Method: "GET", Path: "/api/seats/events", Tag: "seats", Summary: "Events (workspaces) with their entitlements and what they miss",
			Query: append(seatsEventsQuery, qCursor, qLimit), Resp: typeOf[seats.EventEntitlements](), Page: true,
			serve: func(c *call) (any, error) {
				p, err := c.eventsParams()
				if err != nil {
					return nil, err
				}
				return page(svc.EventsPage(c.ctx(), p))
			}},
		{Method: "GET", Path: "/api/seats/events.csv", Tag: "seats", Summary: "The events as CSV",
			Query: seatsEventsQuery, File: csvType,
			serve: func(c *call) (any, error) {
				p, err := c.eventsParams()
				if err != nil {
					return nil, err
				}
				p.Cursor, p.Limit = "", 0
				t, err := svc.EventsTable(c.ctx(), p)
				return tableDownload("events", t, err)
			}},
		{Method: "POST", Path: "/api/seats/events", Tag: "seats", Summary: "Create an event (the same contents again return it)",
			Body: typeOf[eventBody](), Resp: typeOf[seats.Event](),
			serve: func(c *call) (any, error) {
				var b eventBody
				if err := c.decode(&b); err != nil {
					return nil, err
				}
				return svc.CreateEvent(c.ctx(), seats.CreateEventParams{Org: c.id.Org, Actor: c.id.Actor, ID: b.ID, Name: b.Name,
					Start: b.Start, End: b.End, Participants: b.Participants, Modules: b.Modules})
			}},
		{Method: "GET", Path: "/api/seats/events/{id}", Tag: "seats", Summary: "One event",
			Resp: typeOf[seats.Event](),
			serve: func(c *call) (any, error) {
				return svc.Event(c.ctx(), seats.EventParams{Org: c.id.Org, Actor: c.id.Actor, ID: c.r.PathValue("id")})
			}},
		{Method: "PUT", Path: "/api/seats/events/{id}/participants", Tag: "seats", Summary: "Set the event's participants (the seats it needs)",
			Body: typeOf[participantsBody](), Resp: typeOf[seats.Event](),
			serve: func(c *call) (any, error) {
				var b participantsBody
				if err := c.decode(&b); err != nil {
					return nil, err
				}
				return svc.SetParticipants(c.ctx(), seats.SetParticipantsParams{Org: c.id.Org, Actor: c.id.Actor,
					Event: c.r.PathValue("id"), Participants: b.Participants})
			}},
		{Method: "PUT", Path: "/api/seats/events/{id}/modules", Tag: "seats", Summary: "Set the advanced modules the event uses",
			Body: typeOf[modulesBody](), Resp: typeOf[seats.Event](),
			serve: func(c *call) (any, error) {
				var b modulesBody
				if err := c.decode(&b); err != nil {
					return nil, err
				}
				return svc.SetModules(c.ctx(), seats.SetModulesParams{Org: c.id.Org, Actor: c.id.Actor,
					Event: c.r.PathValue("id"), Modules: b.Modules})
			}},
		{Method: "POST", Path: "/api/seats/events/{id}/seat-transfers", Tag: "seats", Summary: "Transfer seats from the pool to the event (final)",
			Body: typeOf[seatTransferBody](), Resp: typeOf[seats.Transaction](), Key: true,
			serve: func(c *call) (any, error) {
				var b seatTransferBody
				if err := c.decode(&b); err != nil {
					return nil, err
				}
				return svc.TransferSeats(c.ctx(), seats.TransferSeatsParams{Org: c.id.Org, Actor: c.id.Actor,
					Event: c.r.PathValue("id"), Quantity: b.Quantity, RequestID: c.key})
			}},
		{Method: "POST", Path: "/api/seats/events/{id}/module-transfers", Tag: "seats", Summary: "Transfer a module to the event (no quantity; final)",
			Body: typeOf[moduleTransferBody](), Resp: typeOf[seats.Transaction](), Key: true,
			serve: func(c *call) (any, error) {
				var b moduleTransferBody
				if err := c.decode(&b); err != nil {
					return nil, err
				}
				return svc.TransferModule(c.ctx(), seats.TransferModuleParams{Org: c.id.Org, Actor: c.id.Actor,
					Event: c.r.PathValue("id"), Module: b.Module, RequestID: c.key})
			}},
		{Method: "POST", Path: "/api/seats/consumption-checks", Tag: "seats", Summary: "Run the consumption check now: assign seats to events that lack them",
			Resp: typeOf[seats.CheckResult](),
			serve: func(c *call) (any, error) {
				return svc.CheckConsumption(c.ctx(), seats.CheckConsumptionParams{Org: c.id.Org, Actor: c.id.Actor})
			}},
	}
}
