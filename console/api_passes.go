package console

import (
	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/passes"
)

type purchaseBody struct {
	Quantity     int64  `json:"quantity"`
	Subscription string `json:"subscription,omitempty"`
}

type fieldValueBody struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type sessionBody struct {
	ID       string           `json:"id"`
	Name     string           `json:"name"`
	Owner    string           `json:"owner,omitempty"`
	External bool             `json:"external"`
	PassType string           `json:"pass_type,omitempty"`
	Fields   []fieldValueBody `json:"fields,omitempty"`
}

type sessionPatchBody struct {
	Name     *string           `json:"name,omitempty"`
	Owner    *string           `json:"owner,omitempty"`
	External *bool             `json:"external,omitempty"`
	PassType *string           `json:"pass_type,omitempty"`
	Fields   *[]fieldValueBody `json:"fields,omitempty"`
}

type fieldsBody struct {
	Fields []struct {
		Name     string `json:"name"`
		Required bool   `json:"required"`
	} `json:"fields"`
}

type loginBody struct {
	Session  string            `json:"session"`
	Location string            `json:"location,omitempty"`
	Fields   map[string]string `json:"fields,omitempty"`
}

type balanceJSON struct {
	Balance int64 `json:"balance"`
}

func fieldValues(b []fieldValueBody) []passes.FieldValue {
	if b == nil {
		return nil
	}
	out := make([]passes.FieldValue, len(b))
	for i, f := range b {
		out[i] = passes.FieldValue{Name: f.Name, Value: f.Value}
	}
	return out
}

var passesLogQuery = []queryParam{
	{"from", "date-time", "rows at or after this time"},
	{"to", "date-time", "rows before this time"},
	{"session", "string", "only this session's rows"},
	{"user", "string", "only this guest's rows"},
}

func (c *call) logParams() (passes.LogParams, error) {
	p := passes.LogParams{Org: c.id.Org, Actor: c.id.Actor, Session: c.str("session"), User: c.str("user")}
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

func (con *Console) passesRoutes() []route {
	svc := con.opts.Passes
	if svc == nil {
		return nil
	}
	return []route{
		{Method: "GET", Path: "/api/passes/balance", Tag: "passes", Summary: "The workspace's balance of passes",
			Resp: typeOf[balanceJSON](),
			serve: func(c *call) (any, error) {
				n, err := svc.Balance(c.ctx(), passes.BalanceParams{Org: c.id.Org, Actor: c.id.Actor})
				return balanceJSON{n}, err
			}},
		{Method: "POST", Path: "/api/passes/purchases", Tag: "passes", Summary: "Record a sale of passes (the vendor's act)",
			Body: typeOf[purchaseBody](), Resp: typeOf[allot.Purchase](), Key: true,
			serve: func(c *call) (any, error) {
				var b purchaseBody
				if err := c.decode(&b); err != nil {
					return nil, err
				}
				return svc.Purchase(c.ctx(), passes.PurchaseParams{Org: c.id.Org, Actor: c.id.Actor,
					Quantity: b.Quantity, Subscription: b.Subscription, RequestID: c.key})
			}},
		{Method: "GET", Path: "/api/passes/sessions", Tag: "passes", Summary: "The workspace's sessions, by ID",
			Query: []queryParam{qCursor, qLimit}, Resp: typeOf[passes.Session](), Page: true,
			serve: func(c *call) (any, error) {
				cur, lim, err := c.paging()
				if err != nil {
					return nil, err
				}
				return page(svc.SessionsPage(c.ctx(), passes.SessionsParams{Org: c.id.Org, Actor: c.id.Actor, Cursor: cur, Limit: lim}))
			}},
		{Method: "POST", Path: "/api/passes/sessions", Tag: "passes", Summary: "Create a session (the same contents again return it)",
			Body: typeOf[sessionBody](), Resp: typeOf[passes.Session](),
			serve: func(c *call) (any, error) {
				var b sessionBody
				if err := c.decode(&b); err != nil {
					return nil, err
				}
				return svc.CreateSession(c.ctx(), passes.CreateSessionParams{Org: c.id.Org, Actor: c.id.Actor,
					ID: b.ID, Name: b.Name, Owner: b.Owner, External: b.External,
					PassType: passes.PassType(b.PassType), Fields: fieldValues(b.Fields)})
			}},
		{Method: "GET", Path: "/api/passes/sessions/{id}", Tag: "passes", Summary: "One session",
			Resp: typeOf[passes.Session](),
			serve: func(c *call) (any, error) {
				return svc.Session(c.ctx(), passes.SessionParams{Org: c.id.Org, Actor: c.id.Actor, ID: c.r.PathValue("id")})
			}},
		{Method: "PATCH", Path: "/api/passes/sessions/{id}", Tag: "passes", Summary: "Change a session's name, owner, billing, pass type or fields",
			Body: typeOf[sessionPatchBody](), Resp: typeOf[passes.Session](),
			serve: func(c *call) (any, error) {
				var b sessionPatchBody
				if err := c.decode(&b); err != nil {
					return nil, err
				}
				p := passes.UpdateSessionParams{Org: c.id.Org, Actor: c.id.Actor, ID: c.r.PathValue("id"),
					Name: b.Name, Owner: b.Owner, External: b.External}
				if b.PassType != nil {
					pt := passes.PassType(*b.PassType)
					p.PassType = &pt
				}
				if b.Fields != nil {
					fv := fieldValues(*b.Fields)
					if fv == nil {
						fv = []passes.FieldValue{}
					}
					p.Fields = &fv
				}
				return svc.UpdateSession(c.ctx(), p)
			}},
		{Method: "GET", Path: "/api/passes/fields", Tag: "passes", Summary: "The workspace's custom fields, in column order",
			Resp: typeOf[passes.FieldDef](), Page: true,
			serve: func(c *call) (any, error) {
				return items(svc.Fields(c.ctx(), passes.FieldsParams{Org: c.id.Org, Actor: c.id.Actor}))
			}},
		{Method: "PUT", Path: "/api/passes/fields", Tag: "passes", Summary: "Define custom fields (defining one again as it is changes nothing)",
			Body: typeOf[fieldsBody](), Resp: typeOf[passes.FieldDef](), Page: true,
			serve: func(c *call) (any, error) {
				var b fieldsBody
				if err := c.decode(&b); err != nil {
					return nil, err
				}
				defs := make([]passes.FieldDef, len(b.Fields))
				for i, f := range b.Fields {
					defs[i] = passes.FieldDef{Name: f.Name, Required: f.Required}
				}
				return items(svc.DefineFields(c.ctx(), passes.DefineFieldsParams{Org: c.id.Org, Actor: c.id.Actor, Fields: defs}))
			}},
		{Method: "POST", Path: "/api/passes/logins", Tag: "passes",
			Summary: "Enter a session as the acting guest: spends passes under the session's pass type",
			Body:    typeOf[loginBody](), Resp: typeOf[passes.Decision](), Key: true,
			serve: func(c *call) (any, error) {
				var b loginBody
				if err := c.decode(&b); err != nil {
					return nil, err
				}
				return svc.Login(c.ctx(), passes.LoginParams{Org: c.id.Org, Session: b.Session, Guest: c.id.Actor,
					Location: b.Location, RequestID: c.key, Fields: b.Fields})
			}},
		{Method: "GET", Path: "/api/passes/log", Tag: "passes", Summary: "The usage log, oldest row first",
			Query: append(passesLogQuery, qCursor, qLimit), Resp: typeOf[passes.Usage](), Page: true,
			serve: func(c *call) (any, error) {
				p, err := c.logParams()
				if err != nil {
					return nil, err
				}
				return page(svc.LogPage(c.ctx(), p))
			}},
		{Method: "GET", Path: "/api/passes/log.csv", Tag: "passes", Summary: "The usage log as CSV, with the workspace's custom fields",
			Query: passesLogQuery, File: csvType,
			serve: func(c *call) (any, error) {
				p, err := c.logParams()
				if err != nil {
					return nil, err
				}
				p.Cursor, p.Limit = "", 0
				t, err := svc.LogTable(c.ctx(), p)
				return tableDownload("usage-log", t, err)
			}},
	}
}
