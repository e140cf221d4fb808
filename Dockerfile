# syntax=docker/dockerfile:1

# attachmentd as a static binary on a distroless image, run as non-root:
#
#   docker build --build-arg VERSION="$(git describe --tags --always)" -t attachmentd .
#
# deploy/kubernetes/manifests_test.go checks EXPOSE and USER against the server
# and the manifests.

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
# Modules in a layer of their own, rebuilt only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS
ARG TARGETARCH
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/attachmentd ./cmd/attachmentd

# Static: the binary, CA certificates (for Booking's HTTPS) and tzdata; no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/attachmentd /attachmentd
USER 65532:65532
# gRPC (--listen) and Prometheus /metrics (--metrics-listen).
EXPOSE 50051 9090
ENTRYPOINT ["/attachmentd"]
