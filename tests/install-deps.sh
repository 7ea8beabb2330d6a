#!/usr/bin/env bash
# Installs what `make test` needs when it is missing: real Kafka clients from
# Debian (kcat, kafka-python, confluent-kafka) and versitygw, the
# S3-compatible server the tiering tests run (into bin/). Run by `make test`;
# safe to run again. Without root it names the packages to install instead.
set -euo pipefail

# versitygw (Apache-2.0) from the Go module proxy. The tests find it as
# bin/versitygw (or through $STRATA_VERSITYGW) and are skipped without it.
VERSITYGW_VERSION=v1.8.0
repo=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -x "$repo/bin/versitygw" ]; then
	echo "install-deps: installing versitygw $VERSITYGW_VERSION into bin/"
	if ! (cd "$repo" && GOBIN="$repo/bin" GOFLAGS=-buildvcs=false "${GO:-go}" install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"); then
		echo "install-deps: could not install versitygw; the S3 tests will be skipped" >&2
	fi
fi

missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
/usr/bin/python3 -c 'import kafka' >/dev/null 2>&1 || missing+=(python3-kafka)
/usr/bin/python3 -c 'import confluent_kafka' >/dev/null 2>&1 || missing+=(python3-confluent-kafka)

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "install-deps: installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >/dev/null || true
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	else
		echo "install-deps: the client-compatibility tests need: ${missing[*]}" >&2
		echo "install-deps: run: sudo apt-get install ${missing[*]}   (they are skipped with a message until then)" >&2
	fi
fi
