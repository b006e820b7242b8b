#!/usr/bin/env bash
# Makes a Docker engine answer on this host, for pytest-single-k8s.
#
# Where an engine already answers, this does nothing. Otherwise, as root on
# Debian, it installs Debian's docker.io and mmdebstrap and starts dockerd. On
# hosts whose capability bounding set lacks CAP_SYS_RESOURCE (some VMs), plain
# runc cannot start privileged containers, so dockerd is started with our small
# runtime wrapper (runc-wrapper/main.go says what it changes). Safe to run twice.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wrapper=/usr/local/libexec/pytest-single-k8s/runc-wrapper
log=/var/log/pytest-single-k8s-dockerd.log

engine_answers() {
  command -v docker >/dev/null && timeout 10 docker version --format '{{.Server.Version}}' 2>/dev/null
}

if version=$(engine_answers); then
  echo " ✓ Docker engine $version answers: host set-up has nothing to do"
  exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo " ✗ No Docker engine answers, and this script can only set one up as root on Debian." >&2
  echo "   Install and start Docker yourself (https://docs.docker.com/engine/install/)," >&2
  echo "   or, if one runs, make its socket usable by you (e.g. join the 'docker' group)." >&2
  exit 1
fi

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
if [ ${#missing[@]} -gt 0 ]; then
  echo " • Installing ${missing[*]} from Debian ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  if version=$(engine_answers); then  # an init system started the packaged service
    echo " ✓ Docker engine $version answers (started by the docker.io package)"
    exit 0
  fi
fi

runtime_flags=()
capbnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
if (( ((16#$capbnd) >> 24 & 1) == 0 )); then
  echo " • This host lacks CAP_SYS_RESOURCE: dockerd gets the runc wrapper ($wrapper)"
  command -v go >/dev/null || { echo " ✗ building the runc wrapper needs Go (1.22 or newer) on PATH" >&2; exit 1; }
  mkdir -p "$(dirname "$wrapper")"
  (cd "$here/runc-wrapper" && CGO_ENABLED=0 go build -trimpath -o "$wrapper.new" . && mv "$wrapper.new" "$wrapper")
  runtime_flags=(--add-runtime "pytest-single-k8s=$wrapper" --default-runtime pytest-single-k8s)
fi

echo " • Starting dockerd (log: $log) ..."
setsid dockerd "${runtime_flags[@]}" >>"$log" 2>&1 </dev/null &
for _ in $(seq 120); do
  if version=$(engine_answers); then
    echo " ✓ Docker engine $version answers"
    exit 0
  fi
  sleep 0.5
done
echo " ✗ dockerd did not answer within 60 s; its last log lines:" >&2
tail -n 20 "$log" >&2
exit 1
