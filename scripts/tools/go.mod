// Tools of the scripts (benchstat for scripts/bench), in a module of their own
// so that the library's go.mod never requires golang.org/x/perf.
module github.com/itemcrypto/go-itemcrypto/scripts/tools

go 1.26.0

tool golang.org/x/perf/cmd/benchstat

require (
	github.com/aclements/go-moremath v0.0.0-20210112150236-f10218a38794 // indirect
	golang.org/x/perf v0.0.0-20260908200009-22c9c6c9d4da // indirect
)
