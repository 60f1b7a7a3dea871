module github.com/allot-dev/allot/console

go 1.26.0

require github.com/allot-dev/allot v0.0.0

require github.com/shopspring/decimal v1.6.0 // indirect

replace github.com/allot-dev/allot => ..
