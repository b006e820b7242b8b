"""The host matrix in the test suite: the CI cells boot as Debian VMs and pass the example, a kubelet
restart and the leftovers check inside (`python -m tests.hosts` runs every cell)."""

import pytest

from pytest_single_k8s import leftovers

from . import tools
from .__main__ import run_cells, table
from .cells import CELLS, CI_CELLS, ENGINE_CELLS
from .vm import Result


@pytest.mark.parametrize("name", CI_CELLS)
def test_a_cell_passes_the_example_and_leaves_nothing(k8s_images, capsys, name):
    try:
        tools.ensure()
    except RuntimeError as error:
        pytest.skip(str(error))
    [result] = run_cells(k8s_images, [name])
    with capsys.disabled():  # the table belongs in the log of every run
        print(f"\n{CELLS[name].note}\n{table([result])}")
    assert_passed(result)


# On this engine, as the session's cluster would be: before it (root conftest.py), since one engine runs one
# cluster at a time, and a kubelet of the session's would make the cell's refuse to start.
@pytest.mark.own_cluster
@pytest.mark.parametrize("name", list(ENGINE_CELLS))
def test_an_engine_cell_passes_the_example_and_leaves_nothing(k8s_images, capsys, name):
    [result] = run_cells(k8s_images, [name])
    with capsys.disabled():
        print(f"\n{ENGINE_CELLS[name].note}\n{table([result])}\n{result.killed}")
    assert_passed(result)
    if name == "dind":  # a session SIGKILLed there was reaped: the session after it started and passed
        assert result.killed.startswith("SIGKILLed (status 137) with its cluster running"), result.log[-4000:]
        # Its engine started empty: that first session pulled our images from the registry beside it.
        assert "Pulling registry:5000/psk8s/kubernetes:" in result.log, result.log[-4000:]
        assert "Building" not in result.log
    # The cell's cluster left nothing on this host either (for dind: it touched nothing outside its service).
    assert leftovers.find(k8s_images.client, k8s_images.ref("kubernetes")) == []


def assert_passed(result: Result) -> None:
    name = result.cell.name
    assert result.engine, f"the job of cell {name} did not report its engine; its log:\n{result.log[-6000:]}"
    assert result.pytest_status == 0, f"pytest in cell {name}: {result.summary}\n{result.log[-8000:]}"
    assert result.leftovers_checked, f"the leftovers check did not run to its end in cell {name}:\n{result.log[-4000:]}"
    assert result.leftovers == [], f"cell {name} kept: {result.leftovers}"
