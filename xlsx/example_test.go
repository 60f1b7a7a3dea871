package xlsx_test

import (
	"bytes"
	"fmt"

	"github.com/allot-dev/allot/table"
	"github.com/allot-dev/allot/xlsx"
	"github.com/xuri/excelize/v2"
)

// Example writes a table as a workbook and reads its cells back: the
// integer column holds numbers, the text column text, formula-like or not.
func Example() {
	overview := table.Table{
		Name:    "Overview",
		Columns: []table.Column{{Name: "Product", Kind: table.Text}, {Name: "Purchased", Kind: table.Integer}},
		Rows:    rows([]string{"seat", "100"}, []string{"=cmd()", "2"}),
	}
	var b bytes.Buffer
	if err := xlsx.Write(&b, overview); err != nil {
		fmt.Println(err)
		return
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	got, _ := f.GetRows("Overview")
	fmt.Println(got)
	kind, _ := f.GetCellType("Overview", "B2")
	fmt.Println("B2 is a number:", kind == excelize.CellTypeUnset || kind == excelize.CellTypeNumber)
	// Output:
	// [[Product Purchased] [seat 100] [=cmd() 2]]
	// B2 is a number: true
}
