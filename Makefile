# Everything the project needs comes from go.mod and tools/go.mod: a machine
# with Go is enough.

GO      ?= go
TOOL    := $(GO) tool -modfile=tools/go.mod
BUF     := $(TOOL) buf
GO_DIRS := bookingapi cmd service telemetry deploy

.PHONY: run sandbox build test fmt-check vet lint format-check generated-check deploy-check examples-check generate bench

## run: serve on :50051 against the built-in sandbox of Booking's API
run:
	$(GO) run ./cmd/attachmentd --sandbox

## sandbox: the strict Booking sandbox as a server on 127.0.0.1:8081, with its control API under /_sandbox/
sandbox:
	$(GO) run ./cmd/booking-sandbox

## build: static binaries in bin/: attachmentd, attachctl for people, booking-sandbox for integrators
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-X main.version=$$(git describe --always --dirty 2>/dev/null || echo dev)" -o bin/attachmentd ./cmd/attachmentd
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/attachctl ./cmd/attachctl
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/booking-sandbox ./cmd/booking-sandbox

## test: every check, then every test with the race detector
test: fmt-check vet lint format-check generated-check deploy-check examples-check
	$(GO) test -race -count=1 ./...

fmt-check:
	@unformatted="$$(gofmt -l $(GO_DIRS))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi

vet:
	$(GO) vet ./...

lint:
	$(BUF) lint

format-check:
	$(BUF) format --diff --exit-code

## generated-check: gen/ is exactly what the .proto files generate
generated-check:
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	$(BUF) generate --output "$$tmp" && \
	if ! diff -r gen "$$tmp/gen"; then echo "gen/ is stale: run make generate"; exit 1; fi

## deploy-check: the Kubernetes manifests against Kubernetes' types and the server's defaults
deploy-check:
	cd deploy/kubernetes && $(GO) vet ./... && $(GO) test -count=1 ./...

## examples-check: the Node and Python examples against the sandbox (npm ci; apt-get of Debian's python3-grpcio/-grpc-tools when missing)
examples-check:
	GO=$(GO) examples/check.sh

## generate: regenerate gen/ from proto/
generate:
	rm -rf gen
	$(BUF) generate

## bench: Go benchmarks of the request bodies and the range decoder, then the load run:
## the built attachmentd against a fast fake Booking (CPU per MB, latency, peak memory)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 3 ./bookingapi
	$(GO) test -count=1 -run '^TestPerformance$$' -v ./cmd/attachmentd -args -perf
