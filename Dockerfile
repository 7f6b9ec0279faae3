# The savepoint-manager image: a static binary on distroless, as non-root.
# (No image can be built on the project's development machines; CI builds
# the binaries and tests them directly.)
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The build's version, as `make build` stamps it:
#   docker build --build-arg VERSION=$(git describe --tags) --build-arg COMMIT=$(git rev-parse --short HEAD) .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w \
      -X github.com/kubectl-savepoint/kubectl-savepoint/internal/version.Version=${VERSION} \
      -X github.com/kubectl-savepoint/kubectl-savepoint/internal/version.Commit=${COMMIT}" \
    -o /out/savepoint-manager ./cmd/savepoint-manager

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/savepoint-manager /savepoint-manager
USER 65532:65532
ENTRYPOINT ["/savepoint-manager"]
