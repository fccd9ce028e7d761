# migsafe as a container image: the binary only, run as a non-root user.
#
#   docker build --build-arg VERSION=v1.2.0 -t migsafe .
#   docker run --rm -v "$PWD:/work" migsafe check db/migrations
#
# migsafe links C (libpg_query), so the binary needs glibc: the final stage
# is distroless/base (glibc, CA certificates, a nonroot user; no shell, no
# package manager). There is no git in it either: migsafe then says so,
# counts every migration version as its own deploy and skips the rules
# that need deploy dates (as in a shallow clone).

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
ARG COMMIT=""
ARG DATE=""
RUN CGO_ENABLED=1 go build -trimpath \
      -ldflags "-s -w -X github.com/migsafe/migsafe/internal/buildinfo.Version=${VERSION} -X github.com/migsafe/migsafe/internal/buildinfo.Commit=${COMMIT} -X github.com/migsafe/migsafe/internal/buildinfo.Date=${DATE}" \
      -o /out/migsafe ./cmd/migsafe

FROM gcr.io/distroless/base-debian12:nonroot
COPY --from=build /out/migsafe /usr/local/bin/migsafe
USER nonroot:nonroot
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/migsafe"]
CMD ["check", "."]
