#!/bin/bash
# The job a host matrix cell runs: a VM at boot (pytest-single-k8s-job.service, then
# it powers off), a job container (tests/hosts/engines.py), or this host against the
# engine in a VM (vm.run_remote). The checkout is at $CHECKOUT (default /checkout), our
# images at $IMAGES (default /images; loaded unless LOAD_IMAGES=0), Python is $PYTHON
# (default python3), and $JOB (default /job) holds what the host wrote for this run and
# what we report:
#   engine        what `docker info` says of the engine
#   security      the engine's security options (apparmor, seccomp, cgroupns)
#   output.log    the whole run
#   pytest.status pytest's exit status (or the conformance subset's, where $JOB/e2e holds e2e.test)
#   killed        with KILL_FIRST=1: how a first session, SIGKILLed once its cluster ran, ended
#   leftovers     what of ours the engine's host still has after the session (empty: clean)
#   leftovers.status  the leftovers check's exit status (0: it ran and found nothing)
# MORE_TESTS names more test files or ids for pytest to run after the example.
# IMAGES_FROM, where set, is a registry holding our images (--k8s-images-from): what the engine lacks is
# pulled from it by the first session.
set -uo pipefail
job=${JOB:-/job} images=${IMAGES:-/images} python=${PYTHON:-python3}
exec >"$job/output.log" 2>&1
export HOME=${HOME:-/root} PYTHONDONTWRITEBYTECODE=1 PYTEST_SINGLE_K8S_CACHE=$job/cache
checkout=${CHECKOUT:-/checkout}
export PYTHONPATH=/opt/pytest-single-k8s/site:$checkout
# The plugin is not installed in a cell, so no entry point names it: every pytest gets it by name, the
# sessions the tests themselves start (pytester, the command line) too. Where it is installed (this
# host, for vm.run_remote), PYTEST_PLUGINS comes set and empty.
export PYTEST_PLUGINS=${PYTEST_PLUGINS-pytest_single_k8s.plugin}
version=$(cat "$job/version")
# Under QEMU's TCG everything runs about ten times slower than on a host: the readiness waits get
# 300 s instead of 120 (the local-path pod's status once lagged its start by over 100 s there).
ready_timeout=${READY_TIMEOUT:-300}
settings=(--k8s-version "$version" --k8s-ready-timeout "$ready_timeout" ${IMAGES_FROM:+--k8s-images-from "$IMAGES_FROM"})
for _ in $(seq 60); do docker version >/dev/null 2>&1 && break; sleep 1; done  # a dind service may still start

docker info --format '{{.ServerVersion}} {{.CgroupDriver}} {{.CgroupVersion}} {{.Driver}} {{json .DriverStatus}}' >"$job/engine"
docker info --format '{{join .SecurityOptions ","}}' >"$job/security"
cd "$checkout"
if [[ ${LOAD_IMAGES:-1} == 1 ]]; then  # as a CI job loads its cached set into a fresh engine
  echo "== images --load"
  time "$python" -m pytest_single_k8s images --load "$images/images.tar" --k8s-version "$version"
fi
if [[ ${KILL_FIRST:-0} == 1 ]]; then
  # A session SIGKILLed once its cluster runs: its lease ends with its connection to the engine, so
  # the reaper deletes the cluster, and the session below waits for the engine and starts its own.
  echo "== a session killed with SIGKILL"
  # Its test marks when it starts: the time to a cluster handed over (pulls included, on an empty engine).
  killed=$(mktemp -d)
  printf 'import pathlib\nimport time\n\n\ndef test_sleeps(k8s_cluster):\n    pathlib.Path(__file__).with_name("started").touch()\n    time.sleep(600)\n' >"$killed/test_sleeps.py"
  started_at=$SECONDS
  "$python" -m pytest -p no:cacheprovider --rootdir "$killed" "${settings[@]}" "$killed/test_sleeps.py" &
  session=$!
  while [[ ! -e $killed/started ]] && ((SECONDS - started_at < 600)) && kill -0 "$session" 2>/dev/null; do sleep 0.2; done
  if [[ -e $killed/started ]]; then
    handed_over="with its cluster running (its test started $((SECONDS - started_at))s after pytest did)"
  else
    handed_over="before its first test started ($((SECONDS - started_at))s after pytest did: no cluster handed over)"
  fi
  kill -9 "$session"
  wait "$session"
  status=$?
  rm -rf "$killed"
  killed_at=$SECONDS
  while ((SECONDS - killed_at < 120)); do  # its reaper deletes the cluster and all else of ours on the engine's host, then itself
    [[ -z $(docker ps -aq --filter label=io.github.pytest-single-k8s.cluster) ]] && "$python" tests/hosts/leftovers.py >/dev/null && break
    sleep 1
  done
  echo "SIGKILLed (status $status) $handed_over; all of it gone $((SECONDS - killed_at))s later" >"$job/killed"
fi
if [[ -d $job/e2e ]]; then
  echo "== conformance subset"
  time "$python" -m tests.conformance --subset --prebuilt "$job/e2e" --version "$version" --output "$job/conformance"
  echo $? >"$job/pytest.status"
else
  echo "== pytest"
  time "$python" -m pytest -p no:cacheprovider "${settings[@]}" -v -rA \
    tests/example tests/integration/test_faults.py::test_kubelet_restart_keeps_running_pods_running ${MORE_TESTS:-}
  echo $? >"$job/pytest.status"
fi
echo "== leftovers"
"$python" tests/hosts/leftovers.py >"$job/leftovers"
echo $? >"$job/leftovers.status"
