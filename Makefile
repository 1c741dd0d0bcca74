GO ?= go
BIN := bin/intercom-export
DEMO_OUT ?= demo-out

.PHONY: all build demo test fmt-check vet bench fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/intercom-export

demo: build
	./$(BIN) demo --out $(DEMO_OUT)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# The loader's tests run twice: with daily partitions, then with monthly ones.
test: fmt-check vet
	$(GO) test -race -count=1 -timeout 30m ./...
	INTERCOM_EXPORT_TEST_PARTITION=month $(GO) test -race -count=1 -timeout 30m ./load/

# Benchmarks, recorded in bench/README.md; not part of make test, which asserts no timing. Conversion
# (convert against the DuckDB peer, each in its own process), the transform and the loader, then
# extraction against the fake server. About 2 minutes on 2 cores.
bench:
	$(GO) test ./cmd/intercom-export -run '^$$' -bench '^BenchmarkConvert$$' -benchtime 1x -timeout 30m
	$(GO) test ./transform ./load -run '^$$' -bench . -benchmem -timeout 30m
	$(GO) test ./extract -run '^$$' -bench . -benchtime 1x -timeout 30m

# Each fuzz target runs for FUZZTIME; not part of make test.
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./extract -run '^$$' -fuzz '^FuzzDecodePage$$' -fuzztime $(FUZZTIME)
	$(GO) test ./extract -run '^$$' -fuzz '^FuzzAPIError$$' -fuzztime $(FUZZTIME)
	$(GO) test ./transform -run '^$$' -fuzz '^FuzzConversation$$' -fuzztime $(FUZZTIME)
	$(GO) test ./transform -run '^$$' -fuzz '^FuzzFastDecode$$' -fuzztime $(FUZZTIME)

clean:
	rm -rf bin $(DEMO_OUT)
