module github.com/allot-dev/allot

go 1.25

require github.com/shopspring/decimal v1.6.0
