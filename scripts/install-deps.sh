#!/usr/bin/env bash
# Installs the Debian 12 packages ward builds, tests and runs with.
# Quick when they are already there: apt-get runs only for missing ones.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  clang libclang-rt-14-dev      # libFuzzer and the sanitizer runtimes
  libsodium-dev libssl-dev      # crypto primitives
  libsqlite3-dev                # the embedded store
  libjansson-dev                # JSON for the HTTP API
  libwebsockets-dev             # HTTP and WebSocket transport of ward serve
  libwebsockets-evlib-ev        # its libev (epoll) event loop plugin
  libev-dev                     # the loop ward serve drives
  curl                          # the server's integration tests
  libcurl4-openssl-dev          # the client's HTTP
  libsignal-protocol-c-dev      # interoperability tests and benchmarks
  libturbojpeg0-dev libspng-dev libwebp-dev libgif-dev  # the media module's decoders
  libxxhash-dev                 # checksums of hash-list index files (XXH3)
  libjpeg-turbo-progs           # djpeg: the media test checks JPEG pixels against it;
                                # bench/pdq.sh times it beside ward hash
  imagemagick                   # convert: bench/pdq.sh makes its 4000x3000 and 1024x768 JPEGs
  valgrind                      # callgrind instruction counts in bench/
  python3-faiss python3-numpy   # only the benchmark uses them: bench/match_faiss.py
                                # times FAISS's binary indexes (make bench-match)
  chromium                      # the moderation console's browser test
)
# Node.js and npm drive Chromium in that test (playwright-core, from
# tests/console/package-lock.json). Debian 12's nodejs (18) and npm (9)
# will do; a newer Node.js already on the machine (with its own npm) is
# kept, since Debian's npm package conflicts with it.
if ! command -v node >/dev/null 2>&1; then
  packages+=(nodejs)
fi
if ! command -v npm >/dev/null 2>&1; then
  packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
