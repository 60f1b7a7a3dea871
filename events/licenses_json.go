package events

import (
	"strconv"
	"time"
)

// appendJSON appends m as json.Marshal writes it, for an invitation's
// event on the hot path; false for a string that is not valid UTF-8 or a
// time json.Marshal refuses, which json.Marshal handles.
func (m Member) appendJSON(b []byte) ([]byte, bool) {
	if y := m.ExpiresAt.Year(); y < 0 || y > 9999 {
		return nil, false
	}
	ok := true
	str := func(key, s string) {
		b = append(b, key...)
		var k bool
		b, k = appendString(b, s)
		ok = ok && k
	}
	str(`{"Email":`, m.Email)
	str(`,"State":`, m.State)
	b = append(b, `,"Teams":`...)
	if m.Teams == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, t := range m.Teams {
			if i > 0 {
				b = append(b, ',')
			}
			var k bool
			b, k = appendString(b, t)
			ok = ok && k
		}
		b = append(b, ']')
	}
	str(`,"Team":`, m.Team)
	b = append(b, `,"ExpiresAt":"`...)
	b = m.ExpiresAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","Purchased":`...)
	b = strconv.AppendInt(b, m.Purchased, 10)
	b = append(b, `,"Available":`...)
	b = strconv.AppendInt(b, m.Available, 10)
	b = append(b, `,"Pending":`...)
	b = strconv.AppendInt(b, m.Pending, 10)
	b = append(b, `,"Active":`...)
	b = strconv.AppendInt(b, m.Active, 10)
	b = append(b, `,"Unassigned":`...)
	b = strconv.AppendInt(b, m.Unassigned, 10)
	b = append(b, '}')
	return b, ok
}

// appendJSON appends t as json.Marshal writes it.
func (t Threshold) appendJSON(b []byte) ([]byte, bool) {
	b = append(b, `{"Product":`...)
	b, ok := appendString(b, t.Product)
	b = append(b, `,"Percent":`...)
	b = strconv.AppendInt(b, int64(t.Percent), 10)
	b = append(b, `,"Up":`...)
	b = strconv.AppendBool(b, t.Up)
	b = append(b, `,"Used":`...)
	b = strconv.AppendInt(b, t.Used, 10)
	b = append(b, `,"Purchased":`...)
	b = strconv.AppendInt(b, t.Purchased, 10)
	return append(b, '}'), ok
}
