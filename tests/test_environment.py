"""What the run records of the Python environment it ran in."""

from __future__ import annotations

import importlib.util
import py_compile

from bench.run import environment


def test_bytecode_is_precompiled_only_when_the_packages_pyc_is_on_disk(tmp_path, monkeypatch):
    package = tmp_path / "fresh_package"
    package.mkdir()
    source = package / "__init__.py"
    source.write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert not environment.bytecode_precompiled("fresh_package")
    py_compile.compile(str(source), cfile=importlib.util.cache_from_source(str(source)))
    assert environment.bytecode_precompiled("fresh_package")


def test_a_package_that_is_not_installed_is_not_precompiled():
    assert not environment.bytecode_precompiled("no_such_package_here")


def test_the_machine_says_whether_bytecode_was_precompiled():
    assert isinstance(environment.machine()["bytecode_precompiled"], bool)
