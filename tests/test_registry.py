"""Registry: built-in names, user classes by module or file path, entry points, clear errors."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from fdrbench import registry
from fdrbench.errors import RegistryError
from fdrbench.registry import ADAPTERS, TASKS, Registry, import_target

from .conftest import HELPERS


def test_builtin_names_resolve_lazily():
    assert "spectral" in ADAPTERS.names()
    assert {"demo", "mmfr_eval"} <= set(TASKS.names())
    cls = ADAPTERS.load("spectral")
    assert cls.__name__ == "SpectralDetector"


def test_unknown_name_suggests_close_matches():
    with pytest.raises(RegistryError, match="Did you mean 'spectral'"):
        ADAPTERS.target("spectrall")
    with pytest.raises(RegistryError, match="Did you mean 'mmfr_eval'"):
        TASKS.target("mmfr_evl")
    with pytest.raises(RegistryError, match="Known:"):
        TASKS.target("zzzz")


def test_module_and_file_targets():
    assert import_target("fdrbench.types:Prediction").__name__ == "Prediction"
    cls = ADAPTERS.load(f"{HELPERS / 'toy_adapters.py'}:HashDetector")
    assert cls.name == "hashdet"
    with pytest.raises(RegistryError, match="no module named"):
        import_target("no_such_pkg_xyz.mod:Thing")
    with pytest.raises(RegistryError, match="has no attribute"):
        import_target("fdrbench.types:NoSuchThing")
    with pytest.raises(RegistryError, match="not found"):
        import_target("missing_file.py:Thing")
    with pytest.raises(RegistryError, match="expected 'module:attribute'"):
        import_target(":x")


def test_missing_dependency_is_named(tmp_path, monkeypatch):
    module = tmp_path / "needs_dep.py"
    module.write_text("import definitely_not_installed_dep_123\nclass X: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(RegistryError, match="needs the package 'definitely_not_installed_dep_123'"):
        import_target("needs_dep:X")


def test_entry_points_are_discovered(monkeypatch):
    ep = EntryPoint(name="plugin_det", value="fdrbench.types:Prediction", group="fdrbench.adapters")

    def fake_entry_points(group):
        return [ep] if group == "fdrbench.adapters" else []

    monkeypatch.setattr(registry, "entry_points", fake_entry_points)
    reg = Registry("adapter", "fdrbench.adapters", {"a": ("fdrbench.types:Sample", "")})
    assert reg.names() == ["a", "plugin_det"]
    assert reg.load("plugin_det").__name__ == "Prediction"
    # a built-in name wins over a plugin of the same name
    monkeypatch.setattr(registry, "entry_points", lambda group: [EntryPoint(name="a", value="x:y", group=group)])
    assert Registry("adapter", "g", {"a": ("fdrbench.types:Sample", "")}).target("a") == "fdrbench.types:Sample"
