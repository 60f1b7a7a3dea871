module github.com/allot-dev/allot/console

go 1.26.0

require (
	github.com/allot-dev/allot v0.0.0
	github.com/chromedp/cdproto v0.159.0
	github.com/chromedp/chromedp v0.23.0
)

require (
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/shopspring/decimal v1.6.0 // indirect
)

replace github.com/allot-dev/allot => ..
