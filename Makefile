# make test: everything CI runs (after .ci/run has installed the tools).
# make fuzz FUZZTIME=5m: a longer fuzzing session of the request path.
FUZZTIME ?= 20s
GO ?= go

.PHONY: test vet unit fuzz build bench

build:
	$(GO) build -o siplens ./cmd/siplens

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 -timeout 20m ./...

# Bounded fuzzing of the whole request path, the digest parser, and the capture reader
# and analyzer of siplens analyze.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzRequestPath$$' -fuzztime $(FUZZTIME) ./server
	$(GO) test -run '^$$' -fuzz '^FuzzParseCredentials$$' -fuzztime $(FUZZTIME) ./digest
	$(GO) test -run '^$$' -fuzz '^FuzzReader$$' -fuzztime $(FUZZTIME) ./capture
	$(GO) test -run '^$$' -fuzz '^FuzzAnalyze$$' -fuzztime $(FUZZTIME) ./analyze

test: vet unit fuzz

# siplens beside Kamailio under SIPp load (minutes; not part of test).
bench:
	bench/run
