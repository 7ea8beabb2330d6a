# Strata — see README.md. `make run` starts a broker, `make test` tests it.

GO      ?= go
BIN     := $(CURDIR)/bin
STRATA  := $(BIN)/strata
DATA    ?= ./data
# Packages whose tests run under the race detector in `make test`.
RACE_PKGS := ./protocol/... ./agent/... ./metadata/... ./tiering/...

export GOFLAGS ?= -buildvcs=false

.PHONY: all build run cluster test test-deps unit lint bench clean

all: build

build:
	$(GO) build -o $(STRATA) ./cmd/strata
	$(GO) build -o $(BIN)/strata-bench ./bench/cmd/strata-bench

## run: start a single-agent broker on localhost:9092 (data in ./data, embedded etcd)
run: build
	$(STRATA) agent --data-dir $(DATA)

## cluster: three agents on 127.0.0.1:9092-9094 that host their own etcd cluster (data in ./data/cluster); Ctrl-C stops them
cluster: build
	@echo "starting agents 1-3 on 127.0.0.1:9092, 9093, 9094 (metrics on 9644-9646, etcd peers on 2380, 2382, 2384); Ctrl-C stops them"
	@bash -c 'members=a1=http://127.0.0.1:2380,a2=http://127.0.0.1:2382,a3=http://127.0.0.1:2384; pids=; \
	for i in 1 2 3; do \
	  $(STRATA) agent --node-id $$i --listen 127.0.0.1:$$((9091+i)) --http-addr 127.0.0.1:$$((9643+i)) --data-dir $(DATA)/cluster/$$i \
	    --etcd-name a$$i --etcd-listen-peer 127.0.0.1:$$((2378+2*i)) --etcd-listen-client 127.0.0.1:$$((2377+2*i)) \
	    --etcd-initial-cluster $$members & pids="$$pids $$!"; \
	done; \
	trap "kill -TERM $$pids 2>/dev/null; wait" INT TERM; wait'

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

## image: container image $(IMAGE), FROM scratch with a static binary built here (deploy/build-image.sh)
IMAGE ?= strata:dev
.PHONY: image
image:
	bash deploy/build-image.sh $(IMAGE)

clean:
	rm -rf $(BIN)
