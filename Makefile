# Strata — see README.md. `make run` starts a broker, `make test` tests it.

GO      ?= go
BIN     := $(CURDIR)/bin
STRATA  := $(BIN)/strata
DATA    ?= ./data
# Packages whose tests run under the race detector in `make test`.
RACE_PKGS := ./protocol/... ./agent/... ./metadata/... ./tiering/...

export GOFLAGS ?= -buildvcs=false

.PHONY: all build run test test-deps unit lint bench clean

all: build

build:
	$(GO) build -o $(STRATA) ./cmd/strata
	$(GO) build -o $(BIN)/strata-bench ./bench/cmd/strata-bench

## run: start a single-agent broker on localhost:9092 (data in ./data, embedded etcd)
run: build
	$(STRATA) agent --data-dir $(DATA)

## test: install what the tests need (if missing), then run every test
test: test-deps build lint
	STRATA_BIN=$(STRATA) $(GO) test -count=1 -timeout 30m -race $(RACE_PKGS)
	STRATA_BIN=$(STRATA) $(GO) test -count=1 -timeout 30m $$($(GO) list ./... | grep -v -e /protocol -e /agent -e /metadata -e /tiering)

## test-deps: Debian packages (kcat, kafka-python, confluent-kafka) and Go tools the tests use
test-deps:
	@bash tests/install-deps.sh

## lint: go vet and gofmt
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## bench: benchmarks — Go micro-benchmarks and the load generator against a fresh local agent
bench: build
	bash bench/run.sh

clean:
	rm -rf $(BIN)
