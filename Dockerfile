# syntax=docker/dockerfile:1
# Build a static binary, then ship it alone on a minimal base.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/edge ./cmd/edge \
 && mkdir -p /out/data/acme
# A file capability lets the non-root user bind 80 and 443 (Docker grants
# NET_BIND_SERVICE to containers by default; COPY keeps the xattr).
RUN apt-get update && apt-get install -y --no-install-recommends libcap2-bin \
 && setcap 'cap_net_bind_service=+ep' /out/edge

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/edge /usr/local/bin/edge
COPY --from=build --chown=65532:65532 /out/data /data
# If a runtime drops NET_BIND_SERVICE, add it back (cap_add in Rancher's
# compose file) or use ports above 1024 (TRAEFIK_HTTP_PORT/TRAEFIK_HTTPS_PORT).
USER 65532:65532
EXPOSE 80 443 8000
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/edge"]
CMD ["serve"]
