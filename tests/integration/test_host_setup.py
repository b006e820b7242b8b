"""The host set-up script: a second run changes nothing; privileged containers work."""

import subprocess
from pathlib import Path

import pytest

import pytest_single_k8s

SETUP = Path(pytest_single_k8s.__file__).parent / "host" / "setup.sh"


def dockerd_pids():
    result = subprocess.run(["pgrep", "-x", "dockerd"], capture_output=True, text=True)
    return result.stdout.split()


def test_setup_run_again_changes_nothing(k8s_images):
    pids = dockerd_pids()
    watched = [Path("/usr/local/libexec/pytest-single-k8s/runc-wrapper")]
    stamps = {p: p.stat().st_mtime_ns for p in watched if p.exists()}
    result = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "host set-up has nothing to do" in result.stdout
    assert dockerd_pids() == pids
    assert {p: p.stat().st_mtime_ns for p in watched if p.exists()} == stamps


def test_privileged_container_with_negative_oom_score_starts_and_accepts_exec(k8s_images, run_container):
    # Needs CAP_SYS_RESOURCE, which some hosts cannot grant without the runtime wrapper.
    container = run_container(k8s_images.ref("debian"), ["sleep", "60"], privileged=True, oom_score_adj=-500)
    exit_code, output = container.exec_run(["cat", "/proc/1/oom_score_adj"])
    assert exit_code == 0
    # -500 where the host grants CAP_SYS_RESOURCE; 0 where the runtime wrapper clamped it
    assert output.strip() in (b"-500", b"0")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux")
def test_setup_refuses_clearly_without_root_when_no_engine_answers(tmp_path):
    # As an unprivileged user the engine's socket does not answer (permission
    # denied) and the script must explain instead of trying to install.
    result = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/bin/bash", str(SETUP)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin:/nonexistent", "HOME": str(tmp_path)},
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "can only set one up as root on Debian" in result.stderr
