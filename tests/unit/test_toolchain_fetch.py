"""The fetched Go toolchain's zip: its hash as the go command computes it, refusal, unpacking. (Against the
real checksum database: tests/integration/test_binaries.py, with no Go at all.)"""

import zipfile

import pytest

from pytest_single_k8s.build import toolchain_fetch
from pytest_single_k8s.common.progress import Status
from pytest_single_k8s.errors import BuildError

PREFIX = "golang.org/toolchain@v0.0.1-go1.27.4.linux-amd64/"


def make(path, files):
    with zipfile.ZipFile(path, "w") as zip_:
        for name, data in files.items():
            zip_.writestr(name, data)
    return path


FILES = {
    PREFIX + "bin/go": b"\x7fELF go",
    PREFIX + "VERSION": b"go1.27.4\n",
    PREFIX + "pkg/tool/linux_amd64/compile": b"c",
}
# What golang.org/x/mod/sumdb/dirhash.HashZip(zip of FILES, dirhash.Hash1) printed (Go's own code, run once).
GO_SAYS = "h1:vgUtraC9JK7bnLlMLHv3KrQJyTINucIfvYCWw3S06MU="


def test_the_hash_is_the_go_commands_and_covers_every_file_and_name_but_not_their_order(tmp_path):
    first = toolchain_fetch.hash1(make(tmp_path / "a.zip", FILES))
    assert first == GO_SAYS
    assert toolchain_fetch.hash1(make(tmp_path / "b.zip", dict(reversed(FILES.items())))) == first
    assert toolchain_fetch.hash1(make(tmp_path / "c.zip", {**FILES, PREFIX + "VERSION": b"go1.27.5\n"})) != first
    renamed = {name.replace("VERSION", "VERSIONS"): data for name, data in FILES.items()}
    assert toolchain_fetch.hash1(make(tmp_path / "d.zip", renamed)) != first


def test_a_zip_whose_hash_the_database_does_not_record_is_refused_naming_both(tmp_path):
    archive = make(tmp_path / "go.zip", FILES)
    toolchain_fetch._check(archive, toolchain_fetch.hash1(archive), "URL")
    with pytest.raises(BuildError, match=r"refused the Go toolchain from URL: its hash is h1:\S+, the Go checksum "
                                         r"database records h1:other; the file was deleted"):  # fmt: skip
        toolchain_fetch._check(archive, "h1:other", "URL")
    toolchain_fetch._check(archive, None, "URL")  # GOSUMDB=off: the proxy's word


def test_unpacking_keeps_the_files_under_the_module_and_makes_the_programs_executable(tmp_path):
    outside = {"elsewhere/file": b"x", PREFIX + "../escape": b"x", PREFIX + str(tmp_path / "absolute"): b"x"}
    archive = make(tmp_path / "go.zip", {**FILES, **outside})
    root = toolchain_fetch._unpack(archive, PREFIX, tmp_path / "root")
    found = sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
    assert found == ["VERSION", "bin/go", "pkg/tool/linux_amd64/compile"]
    assert (root / "bin" / "go").stat().st_mode & 0o777 == 0o755
    assert (root / "pkg/tool/linux_amd64/compile").stat().st_mode & 0o777 == 0o755
    assert (root / "VERSION").stat().st_mode & 0o777 == 0o644
    assert not (tmp_path / "escape").exists()
    assert not (tmp_path / "absolute").exists()


def test_the_newest_unpacked_toolchain_for_this_machine_that_is_new_enough_is_used(tmp_path):
    here, elsewhere = toolchain_fetch.platform_name(), "plan9-mips"
    for name in (f"go1.25.9.{here}", f"go1.27.4.{here}", f"go1.26.1.{here}", f"go1.29.0.{elsewhere}"):
        (tmp_path / name / "bin").mkdir(parents=True)
        (tmp_path / name / "bin" / "go").write_bytes(b"")
    (tmp_path / f"go1.28.0.{here}" / "bin").mkdir(parents=True)  # unpacking never finished: no go in it
    assert toolchain_fetch.installed(tmp_path, (1, 26)) == tmp_path / f"go1.27.4.{here}"
    assert toolchain_fetch.installed(tmp_path, (1, 28)) is None


def test_with_no_proxy_to_fetch_from_it_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("GOPROXY", "off")
    with pytest.raises(BuildError, match=r"GOPROXY=off names no proxy to fetch one from: install Go"):
        toolchain_fetch.fetch((1, 26), tmp_path, Status())
