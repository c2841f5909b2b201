"""The spec language and the perturbation it describes.

``jpeg:q=70``, ``resize:side=512,interp=bicubic``, ``jpeg:q=75+resize:side=512`` (``+`` composes
left to right), or a preset member such as ``fakevlm_t7/jpeg70`` (also inside a composition).
Parameters are ``name=value`` separated by commas; a value may be a range ``a..b`` or a choice
``a|b`` drawn per sample. The canonical form sorts each step's parameters, writes numbers one
way and leaves out defaults, so two specs that mean the same hash the same.

Randomness is keyed on (run seed, sample id, step index) only: step ``i`` of sample ``s`` draws
from a generator seeded by sha256 of ``"{seed}/{s}/{i}"``, so a sample gets the same
perturbation in every run, shard, resume and order of samples.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from fdrbench.errors import FdrbenchError
from fdrbench.perturb.geometry import Plan
from fdrbench.perturb.kinds import KINDS, PROBABILITY, Kind
from fdrbench.perturb.params import Fixed, Interval, OneOf, Param, Range, Value

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

COMPOSE = "+"
HASH_CHARS = 12


def step_rng(seed: int, sample_id: str, index: int) -> np.random.Generator:
    """The generator of step ``index`` for one sample; nothing else feeds it."""
    digest = hashlib.sha256(f"{int(seed)}/{sample_id}/{index}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))


@dataclass(frozen=True)
class Step:
    """One kind with its parameter values (defaults filled in)."""

    kind: Kind
    values: tuple[tuple[str, Value], ...]  # sorted by name, defaults included

    @property
    def canonical(self) -> str:
        shown = [f"{name}={value.text()}" for name, value in self.values if not self.kind.param(name).is_default(value)]
        return self.kind.name + (":" + ",".join(shown) if shown else "")

    @property
    def random(self) -> bool:
        """True when the step draws anything: a probability, a range, a choice, noise, a crop."""
        drawn = any(isinstance(value, (Range, OneOf)) for _, value in self.values)
        return drawn or self.probability < 1 or self.kind.name in ("noise", "rrcrop")

    @property
    def probability(self) -> float:
        return float(dict(self.values)["p"].value)

    def draw(self, rng: np.random.Generator) -> dict | None:
        """The concrete parameters for one sample, or None when the step is skipped for it."""
        if self.probability < 1 and rng.random() >= self.probability:
            return None
        return {name: value.draw(rng) for name, value in self.values if name != "p"}


def _did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _default(param: Param) -> Value:
    return Interval(*(float(v) for v in param.default)) if param.kind == "interval" else Fixed(param.default)


def parse_step(text: str) -> Step:
    """One ``kind[:name=value,...]`` step, checked against its kind."""
    where = f"perturbation {text!r}"
    name, _, rest = text.strip().partition(":")
    name = name.strip().lower()
    kind = KINDS.get(name)
    if kind is None:
        raise FdrbenchError(
            f"{where}: unknown kind {name!r}{_did_you_mean(name, list(KINDS))}; "
            f"kinds: {', '.join(sorted(KINDS))}; or a preset member such as fakevlm_t7/jpeg70 (fdrbench.perturb.presets)"
        )
    given: dict[str, Value] = {}
    for item in [part.strip() for part in rest.split(",")] if rest.strip() else []:
        key, sep, value = item.partition("=")
        key = key.strip()
        param = kind.param(key)
        if not sep or param is None:
            what = (
                f"unknown parameter {key!r}{_did_you_mean(key, [p.name for p in (*kind.params, PROBABILITY)])}"
                if sep
                else f"{item!r} is not name=value"
            )
            raise FdrbenchError(f"{where}: {what}; {kind.name} accepts: {kind.accepted()}")
        if key in given:
            raise FdrbenchError(f"{where}: parameter {key!r} given twice")
        given[key] = param.parse(value.strip(), where)
    kind.check(set(given), where)
    values = dict(given)
    for param in (*kind.params, PROBABILITY):
        if param.name not in values and param.default is not None:
            values[param.name] = _default(param)
    return Step(kind, tuple(sorted(values.items())))


@dataclass(frozen=True)
class Perturbation:
    """An ordered composition of steps: a pure function of (image, sample id, run seed)."""

    steps: tuple[Step, ...]
    name: str | None = field(default=None, compare=False)  # the preset member it was named by, if any

    @cached_property
    def canonical(self) -> str:
        return COMPOSE.join(step.canonical for step in self.steps)

    @cached_property
    def hash(self) -> str:
        """Short stable id of the canonical form (the name a spec was given by does not count)."""
        return hashlib.sha256(self.canonical.encode()).hexdigest()[:HASH_CHARS]

    @property
    def geometric(self) -> bool:
        return any(step.kind.geometric for step in self.steps)

    @property
    def random(self) -> bool:
        return any(step.random for step in self.steps)

    @property
    def libraries(self) -> tuple[str, ...]:
        found: list[str] = []
        for step in self.steps:
            found.extend(lib for lib in step.kind.libraries if lib not in found)
        return tuple(found)

    def __str__(self) -> str:
        return self.canonical

    def apply(self, image: Image.Image, sample_id: str, seed: int = 0) -> tuple[Image.Image, Plan]:
        """The perturbed RGB image and the geometry it went through."""
        image = image if image.mode == "RGB" else image.convert("RGB")
        size_in = image.size
        geometry = []
        for index, step in enumerate(self.steps):
            rng = step_rng(seed, sample_id, index)
            params = step.draw(rng)
            if params is None:
                continue
            if step.kind.geometric:
                planned = step.kind.plan(image.size, rng, params)
                for primitive in planned:
                    image = primitive.warp(image)
                geometry.extend(planned)
            else:
                image = step.kind.apply(image, rng, params)
        return image, Plan(size_in, image.size, tuple(geometry))

    def __call__(self, image: Image.Image, sample_id: str, seed: int = 0) -> Image.Image:
        return self.apply(image, sample_id, seed)[0]

    def plan(self, size: tuple[int, int], sample_id: str, seed: int = 0) -> Plan:
        """The geometry :meth:`apply` would use on an image of ``size``, without any pixels."""
        current = tuple(size)
        geometry = []
        for index, step in enumerate(self.steps):
            if not step.kind.geometric:
                continue
            rng = step_rng(seed, sample_id, index)
            params = step.draw(rng)
            if params is None:
                continue
            planned = step.kind.plan(current, rng, params)
            for primitive in planned:
                current = primitive.size_out
            geometry.extend(planned)
        return Plan(tuple(size), current, tuple(geometry))
