#!/usr/bin/env bash
# Builds the Strata container image FROM scratch (deploy/Dockerfile) from a
# static binary compiled here, so no base image is pulled.
#
#   deploy/build-image.sh [TAG]          TAG defaults to strata:dev
#
# Environment: GO (the go command), GOARCH (target architecture, default
# the host's), VERSION (stamped into `strata version`), CA_BUNDLE (CA
# certificates to ship; default: the system bundle).
set -euo pipefail

tag=${1:-strata:dev}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT

ca=${CA_BUNDLE:-}
if [ -z "$ca" ]; then
  for f in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem; do
    if [ -f "$f" ]; then
      ca=$f
      break
    fi
  done
fi
if [ -z "$ca" ] || [ ! -f "$ca" ]; then
  echo "build-image: no CA certificate bundle found; install ca-certificates or set CA_BUNDLE" >&2
  exit 1
fi
if ! command -v docker >/dev/null; then
  echo "build-image: docker is not installed" >&2
  exit 1
fi

cd "$root"
CGO_ENABLED=0 GOOS=linux GOFLAGS=${GOFLAGS:--buildvcs=false} "${GO:-go}" build -trimpath \
  -ldflags="-s -w -X main.version=${VERSION:-}" -o "$ctx/strata" ./cmd/strata

mkdir -p "$ctx/etc/ssl/certs" "$ctx/data" "$ctx/tmp"
chmod 0755 "$ctx/data"
chmod 1777 "$ctx/tmp"
cp "$ca" "$ctx/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/:/sbin/nologin\nstrata:x:65532:65532:strata:/data:/sbin/nologin\n' >"$ctx/etc/passwd"
printf 'root:x:0:\nstrata:x:65532:\n' >"$ctx/etc/group"
cp deploy/Dockerfile "$ctx/Dockerfile"

docker build --label "org.opencontainers.image.version=${VERSION:-dev}" -t "$tag" "$ctx"
echo "built $tag"
