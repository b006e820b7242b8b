import io

import pytest

from pytest_single_k8s.common.progress import Status


def test_steps_print_start_and_outcome_and_throttle_details_off_a_terminal():
    out = io.StringIO()
    status = Status(out, quiet_interval=3600)
    with status.step("Building kube v1.37.2") as step:
        step.update("compiled 1 packages")  # throttled: nothing printed
    with pytest.raises(RuntimeError), status.step("Importing rootfs"):
        raise RuntimeError("boom")
    lines = out.getvalue().splitlines()
    assert lines[0] == " • Building kube v1.37.2 ..."
    assert lines[1].startswith(" ✓ Building kube v1.37.2 [")
    assert lines[2] == " • Importing rootfs ..."
    assert lines[3].startswith(" ✗ Importing rootfs [")
    assert len(lines) == 4


def test_details_are_printed_when_the_interval_has_passed():
    out = io.StringIO()
    with Status(out, quiet_interval=0).step("Building") as step:
        step.update("compiled 7 packages")
    assert "   … compiled 7 packages [" in out.getvalue()
