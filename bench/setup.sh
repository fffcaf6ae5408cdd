#!/usr/bin/env bash
# Installs the benchmark's own dependencies into bench/node_modules (never into
# the library's): kafkajs, kafkajs-lz4, @platformatic/kafka and
# @confluentinc/kafka-javascript; and builds the Go runners (franz-go, Sarama;
# bench/clients/go, modules from the Go module proxy) into bench/.bin/.
#
# Idempotent: Debian packages are installed only when missing, and npm runs
# only when bench/package.json changed since the last install or a package is
# missing. @confluentinc/kafka-javascript has no prebuilt binary reachable
# here, so it compiles librdkafka from source: several minutes on 2 cores. Its
# default (static) build downloads zlib, OpenSSL, zstd and curl sources, which
# this machine cannot fetch, so we build it against Debian's libraries instead
# (CKJS_LINKING=dynamic). It is an optional dependency: when its build fails the
# other clients stay usable, bench/run.ts reports it as not installed, and we do
# not retry until package.json changes (delete node_modules to force a retry).
set -euo pipefail
cd "$(dirname "$0")"

apt_packages=(zlib1g-dev libssl-dev libzstd-dev liblz4-dev libsasl2-dev g++ make python3)
missing=()
for pkg in "${apt_packages[@]}"; do
  command -v "$pkg" >/dev/null 2>&1 && continue # python3 may come from elsewhere (pyenv)
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
# GNU time measures the children's CPU and peak RSS from outside.
[[ -x /usr/bin/time ]] || missing+=(time)
if ((${#missing[@]})); then
  echo "bench/setup.sh: installing Debian packages: ${missing[*]}" >&2
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >&2
fi

stamp=node_modules/.bench-setup-stamp
confluent_addon=node_modules/@confluentinc/kafka-javascript/build/Release/confluent-kafka-javascript.node
need_install=0
[[ -f $stamp && $stamp -nt package.json ]] || need_install=1
for dep in kafkajs kafkajs-lz4 lz4 @platformatic/kafka; do
  [[ -f node_modules/$dep/package.json ]] || need_install=1
done

if ((need_install)); then
  echo "bench/setup.sh: npm install in bench/ (librdkafka compiles from source: several minutes; log in bench/.setup.log)" >&2
  export CKJS_LINKING=dynamic
  # node-gyp's outer make must run serially: with JOBS>1 it races its own
  # configure action ("No rule to make target ../deps/librdkafka/config.h").
  # librdkafka's inner make runs with -j on its own anyway.
  export JOBS=1
  if ! npm install --no-audit --no-fund --foreground-scripts >.setup.log 2>&1; then
    tail -40 .setup.log >&2
    exit 1
  fi
  touch "$stamp"
  if [[ ! -f $confluent_addon ]]; then
    echo "bench/setup.sh: @confluentinc/kafka-javascript did not build; see bench/.setup.log" >&2
    grep -E 'ERROR|error|failed' .setup.log | grep -v '^npm warn' | head -20 >&2 || true
  fi
fi

# The Go runners: one module (bench/clients/go/go.mod pins franz-go and Sarama),
# one binary per client in bench/.bin/. `go build` is incremental, so this runs
# every time. A runner that does not build (no Go toolchain, no module proxy) is
# not fatal: bench/run.ts reports that client as skipped.
mkdir -p .bin
go_runners=(franzgo:franz-go sarama:sarama)
if command -v go >/dev/null 2>&1; then
  for pair in "${go_runners[@]}"; do
    dir=${pair%%:*}
    bin=${pair##*:}
    if ! (cd clients/go && go build -trimpath -o "../../.bin/$bin" "./$dir") >".bin/$bin.build.log" 2>&1; then
      rm -f ".bin/$bin"
      echo "bench/setup.sh: the $bin runner did not build (bench/.bin/$bin.build.log); bench/run.ts will skip it:" >&2
      tail -5 ".bin/$bin.build.log" >&2
    fi
  done
else
  for pair in "${go_runners[@]}"; do rm -f ".bin/${pair##*:}"; done
  echo "bench/setup.sh: no Go toolchain (go) on PATH: franz-go and sarama will be skipped" >&2
fi
