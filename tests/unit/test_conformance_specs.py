"""The conformance tool's selections, as data (tests/conformance/specs.py)."""

import re

from tests.conformance import specs


def test_the_focus_selects_exactly_the_named_specs():
    pattern = re.compile(specs.focus(specs.SUBSET))
    for name in specs.SUBSET:
        assert pattern.fullmatch(specs.SUITE + name), name
        assert not pattern.fullmatch(specs.SUITE + name + " [Slow]")
        assert not pattern.fullmatch(specs.SUITE + "x" + name)
    assert not pattern.fullmatch(specs.SUITE + "[sig-node] Pods should be submitted and removed")


def test_the_focus_escapes_only_what_go_s_regexp_treats_as_special():
    # RE2 refuses an escaped space or colon, which Python's re.escape would write.
    escaped = specs.escape("[sig-x] a.b (c) [Privileged:ClusterAdmin] d's e|f")
    assert escaped == r"\[sig-x\] a\.b \(c\) \[Privileged:ClusterAdmin\] d's e\|f"


def test_the_subset_has_no_spec_that_cannot_pass_here_and_none_twice():
    assert len(set(specs.SUBSET)) == len(specs.SUBSET) >= 30
    assert not set(specs.SUBSET) & set(specs.NOT_HERE)
    assert all(name.endswith(("[Conformance]", "[NodeConformance]", "[Serial]")) for name in specs.SUBSET)
