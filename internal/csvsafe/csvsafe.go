// Package csvsafe keeps exported cells inert in spreadsheets.
package csvsafe

// Cell makes a spreadsheet cell inert: a cell that starts with = + - @, a tab
// or a carriage return, which spreadsheet programs may run as a formula, gets
// a leading apostrophe. Other cells are returned as they are.
func Cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
