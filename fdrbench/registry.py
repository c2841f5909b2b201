"""Lazy name -> "module:attr" registries for adapters and tasks.

Nothing is imported until a name is used, so ``fdrbench --help`` and ``fdrbench list`` stay
fast. Third-party packages add names through the entry-point groups ``fdrbench.adapters`` and
``fdrbench.tasks``; a user's own class works without registration as ``my_pkg.my_module:MyDetector``
or ``path/to/file.py:MyDetector``.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import sys
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from fdrbench.errors import RegistryError


@dataclass(frozen=True)
class Entry:
    name: str
    target: str
    summary: str = ""
    source: str = "builtin"


class Registry:
    """Names of one kind (adapter, task) mapped to import targets, resolved on first use."""

    def __init__(self, kind: str, group: str, builtin: dict[str, tuple[str, str]]):
        self.kind = kind
        self.group = group
        self._builtin = {name: Entry(name, target, summary) for name, (target, summary) in builtin.items()}
        self._loaded: dict[str, Any] = {}

    def entries(self) -> list[Entry]:
        found = dict(self._builtin)
        for ep in entry_points(group=self.group):
            found.setdefault(ep.name, Entry(ep.name, ep.value, "", source=ep.dist.name if ep.dist else "plugin"))
        return [found[name] for name in sorted(found)]

    def names(self) -> list[str]:
        return [e.name for e in self.entries()]

    def registered(self, name: object) -> Entry | None:
        """The entry registered under exactly ``name`` (built in or an installed entry point), else None.

        Unlike :meth:`target`, a ``module:attr`` or ``file.py:attr`` form is never accepted here:
        this is the lookup for names read from untrusted files.
        """
        if not isinstance(name, str) or not name:
            return None
        return next((entry for entry in self.entries() if entry.name == name), None)

    def load_registered(self, name: str) -> Any:
        """Import the object registered under ``name``; a name that is not registered is an error."""
        entry = self.registered(name)
        if entry is None:
            raise RegistryError(f"unknown {self.kind} {name!r}: not a registered name")
        if entry.name not in self._loaded:
            self._loaded[entry.name] = import_target(entry.target, what=f"{self.kind} {entry.name!r}")
        return self._loaded[entry.name]

    def target(self, name: str) -> str:
        if ":" in name:
            return name
        for entry in self.entries():
            if entry.name == name:
                return entry.target
        close = difflib.get_close_matches(name, self.names(), n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise RegistryError(
            f"unknown {self.kind} {name!r}.{hint} Known: {', '.join(self.names()) or 'none'}. "
            f"A class of your own can be given as 'my_pkg.my_module:MyClass' or 'path/to/file.py:MyClass'."
        )

    def load(self, name: str) -> Any:
        """Import and return the object registered under ``name`` (or named by ``module:attr``)."""
        if name not in self._loaded:
            self._loaded[name] = import_target(self.target(name), what=f"{self.kind} {name!r}")
        return self._loaded[name]


def import_target(target: str, what: str = "object") -> Any:
    """Import ``module.path:attr`` or ``file.py:attr``, with errors that say what is missing."""
    module_name, sep, attr = target.rpartition(":")
    if not sep or not module_name or not attr:
        raise RegistryError(f"{what}: expected 'module:attribute', got {target!r}")
    if module_name.endswith(".py"):
        module = _import_file(Path(module_name), what)
    else:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if module_name == missing or module_name.startswith(missing + "."):
                raise RegistryError(f"{what}: no module named {module_name!r}") from exc
            raise RegistryError(
                f"{what} needs the package {missing!r}, which is not installed "
                f"(pip install {missing}, or install the fdrbench extra that provides it)"
            ) from exc
    obj = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise RegistryError(f"{what}: module {module_name!r} has no attribute {attr!r}") from exc
    return obj


def _import_file(path: Path, what: str) -> Any:
    if not path.is_file():
        raise RegistryError(f"{what}: file {path} not found")
    name = f"fdrbench_user_{abs(hash(str(path.resolve())))}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RegistryError(f"{what}: cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


ADAPTERS = Registry(
    "adapter",
    "fdrbench.adapters",
    {
        "fakereasoning": (
            "fdrbench.adapters.fakereasoning.detector:FakeReasoningDetector",
            "FakeReasoning (v3): CLIP + DINOv2 fused by FAFF into LLaVA-1.5-13B; CPM gives p_fake",
        ),
        "spectral": (
            "fdrbench.adapters.baselines.spectral:SpectralDetector",
            "CPU baseline: radial power spectrum + high-pass residual statistics, logistic regression",
        ),
        "sida": (
            "fdrbench.adapters.sida.adapter:SidaDetector",
            "SIDA-7B/13B (CVPR 2025): real / full synthetic / tampered, class probabilities, tampered-region mask",
        ),
        "sida_description": (
            "fdrbench.adapters.sida.adapter:SidaDescriptionDetector",
            "SIDA-7B/13B-description: SIDA's verdict and mask plus a generated explanation",
        ),
        "hf_lmm": (
            "fdrbench.adapters.hf_lmm:HFLMMDetector",
            "Any transformers image-text-to-text model (--model-arg path=<hub id or folder>)",
        ),
        "fakevlm": (
            "fdrbench.adapters.fakevlm:FakeVLMDetector",
            "FakeVLM (lingcco/fakeVLM), raw prompt and verdict rule of its released evaluation",
        ),
        "openai_lmm": (
            "fdrbench.adapters.openai_lmm:OpenAILMMDetector",
            "Any OpenAI-compatible chat endpoint (--model-arg base_url=... model=...)",
        ),
    },
)

TASKS = Registry(
    "task",
    "fdrbench.tasks",
    {
        "demo": (
            "fdrbench.tasks.demo:DemoTask",
            "Embedded smoke benchmark built from scikit-image photos (GAN-like, diffusion-like, tampered)",
        ),
        "mmfr_eval": (
            "fdrbench.tasks.mmfr:MMFREval",
            "MMFR evaluation sets (FakeReasoning): 10 generators, detection + attribute reasoning",
        ),
        "mmfr_train": ("fdrbench.tasks.mmfr:MMFRTrain", "MMFR training split (FakeReasoning): DiffusionDB fakes, LAION reals, CoT targets"),
        "fakeclue": ("fdrbench.tasks.fakeclue:FakeClue", "FakeClue test set (FakeVLM): 7 categories, explanation references"),
        "loki": ("fdrbench.tasks.loki:Loki", "LOKI image judgement: yes/no questions on real and AI-generated images, 7 categories"),
        "loki_explain": (
            "fdrbench.tasks.loki:LokiExplain",
            "LOKI abnormal explanation: 229 fakes with human global and regional annotations",
        ),
        "ddvqa": ("fdrbench.tasks.ddvqa:DDVQA", "DD-VQA: FF++ frames, image-level real/fake question with reference answers"),
        "sofake_ood": ("fdrbench.tasks.sofake:SoFakeOOD", "So-Fake-OOD: real / fully synthetic / tampered social-media images, masks"),
        "sidset": ("fdrbench.tasks.sidset:SIDSet", "SID-Set (SIDA): real / fully synthetic / tampered images with masks"),
    },
)
