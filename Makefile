GO ?= go
BIN := bin/intercom-export
DEMO_OUT ?= demo-out

.PHONY: all build demo deps test fmt-check vet cross dist bench fuzz clean

all: build

# The version comes from the build info (the module version under `go install module@vX.Y.Z`, the commit
# and its time from git); -buildvcs=true because some environments turn VCS stamping off in GOFLAGS. A
# tag on the commit becomes the version.
TAG := $(shell git describe --tags --exact-match 2>/dev/null)
LDFLAGS := -X main.buildDate=$(shell date -u +%Y-%m-%dT%H:%M:%SZ) $(if $(TAG),-X main.releaseVersion=$(TAG))
BUILDFLAGS := -buildvcs=true -trimpath -ldflags '$(LDFLAGS)'

build:
	$(GO) build $(BUILDFLAGS) -o $(BIN) ./cmd/intercom-export

# Static binaries (no cgo) for every platform the tool supports, in dist/.
DIST_PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64
dist:
	@set -e; for p in $(DIST_PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; out=dist/intercom-export-$$os-$$arch; \
	  if [ $$os = windows ]; then out=$$out.exe; fi; \
	  echo "$$out"; CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build $(BUILDFLAGS) -o $$out ./cmd/intercom-export; \
	done

# The code builds for the operating systems it does not run its tests on.
cross:
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build ./...
	CGO_ENABLED=0 GOOS=darwin GOARCH=arm64 $(GO) build ./...

demo: build
	./$(BIN) demo --out $(DEMO_OUT)

# The modules the build and the tests need. The tests read the output with a real DuckDB: the driver
# github.com/duckdb/duckdb-go/v2 brings DuckDB 1.5 as a prebuilt static library, a download of about
# 100 MB for this platform, which go would otherwise fetch silently during go vet.
deps:
	@if ! $(GO) list -m -f '{{.Dir}}' github.com/duckdb/duckdb-go-bindings/lib/$$($(GO) env GOOS)-$$($(GO) env GOARCH) 2>/dev/null | grep -q .; then \
	  echo "make deps: downloading the Go modules, DuckDB's static library among them (about 100 MB; once per machine)"; \
	fi
	$(GO) mod download

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# The libraries' tests (extract, load, transform, schemas) all run under the race detector. The
# command's tests are end-to-end runs of the same pipeline over real HTTP and real files: under the race
# detector they took 9 of make test's 12 minutes, re-running the same concurrent code many times. So a
# few that drive every concurrent part (the pipeline end to end, retries under faults, changes during a
# run, the lock wait, progress reporters, check) run under it, and the rest without. The
# tests that kill processes never do: a race-instrumented child is 5 to 10 times slower, and the parent's
# race detector does not look into its children anyway. The loader's tests run twice: with daily
# partitions, then with monthly ones, but for the bucket tests (their S3 server is the slow part, and
# the end-to-end bucket test runs by month).
RACE_CMD_TESTS := ^(TestExportEndToEnd|TestExportUnderEveryFaultEqualsCleanRun|TestChangesDuringARunAppearInTheNext|TestSecondRunOnTheSameFolderIsRefused|TestCheck|TestProgress.*|TestCommitProgressLineAndEvents|TestBoundedRunExportsItsWindowAndLeavesTheBookmark)$$
LIBRARY_PACKAGES = $$($(GO) list ./... | grep -v /cmd/)
test: deps fmt-check vet cross
	$(GO) test -race -count=1 -timeout 30m $(LIBRARY_PACKAGES)
	$(GO) test -race -count=1 -timeout 30m -run '$(RACE_CMD_TESTS)' ./cmd/...
	$(GO) test -count=1 -timeout 30m -skip '$(RACE_CMD_TESTS)' ./cmd/...
	INTERCOM_EXPORT_TEST_PARTITION=month $(GO) test -race -count=1 -timeout 30m -skip '^TestBucket' ./load/

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
	rm -rf bin dist $(DEMO_OUT)
