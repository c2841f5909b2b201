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
    """Built-in names and plugins come from the same entry-point groups."""

    class Dist:
        def __init__(self, name):
            self.name = name

    def point(name, value, dist):
        ep = EntryPoint(name=name, value=value, group="fdrbench.adapters")
        return ep._for(Dist(dist)) if hasattr(ep, "_for") else ep

    own = point("a", "fdrbench.types:Sample", "fdrbench")
    plugin = point("plugin_det", "fdrbench.types:Prediction", "someone-else")
    clash = point("a", "x:y", "someone-else")
    monkeypatch.setattr(registry, "entry_points", lambda group: [clash, own, plugin] if group == "fdrbench.adapters" else [])
    reg = Registry("adapter", "fdrbench.adapters")
    assert reg.names() == ["a", "plugin_det"]
    assert reg.load("plugin_det").__name__ == "Prediction"
    # fdrbench's own entry wins over a plugin of the same name
    assert reg.target("a") == "fdrbench.types:Sample"
    assert [e.source for e in reg.entries()] == ["fdrbench", "someone-else"]


def test_list_reads_summaries_without_importing(tmp_path, monkeypatch):
    import sys

    (tmp_path / "summary_probe_mod.py").write_text(
        'raise RuntimeError("importing me is not allowed")\n'
        "class Probe:\n"
        '    """First line of the docstring.\n\n    More."""\n'
        "class Described:\n"
        '    description = "a stated description"\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert registry.static_summary("summary_probe_mod:Probe") == "First line of the docstring."
    assert registry.static_summary("summary_probe_mod:Described") == "a stated description"
    assert registry.static_summary("summary_probe_mod:Missing") == ""
    assert "summary_probe_mod" not in sys.modules


def test_list_follows_a_packages_re_export_without_importing_it(tmp_path, monkeypatch):
    import sys

    package = tmp_path / "summary_probe_pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text('raise RuntimeError("importing me is not allowed")\nfrom .task import Probe\n')
    (package / "task.py").write_text(
        'raise RuntimeError("nor me")\nfrom summary_probe_pkg.sub.deep import Deep as Renamed\n'
        'class Probe:\n    description = "the class in the submodule"\n'
    )
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "deep.py").write_text('class Deep:\n    """Two re-exports away."""\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    assert registry.static_summary("summary_probe_pkg:Probe") == "the class in the submodule"
    assert registry.static_summary("summary_probe_pkg.task:Renamed") == "Two re-exports away."
    assert registry.static_summary("summary_probe_pkg:Missing") == ""
    assert not [m for m in sys.modules if m.startswith("summary_probe_pkg")]
