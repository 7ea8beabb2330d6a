#!/usr/bin/env bash
# Installs what `make test` needs when it is missing: real Kafka clients from
# Debian (kcat, kafka-python, confluent-kafka). Run by `make test`; safe to
# run again. Without root it names the packages to install instead.
set -euo pipefail

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
