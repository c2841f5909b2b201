"""Generator metadata for scoring: the slices a run gains from knowing which generator made each image.

A task may hand the engine a :class:`GeneratorTable` (``Task.generator_table()``): which of its
group keys names the generator, and what each name means (canonical name, architecture family,
kind of generation, open weights or commercial, release date and where that date comes from).
The score stage then adds derived groups to every protocol block, computed from each stored
truth, so a run scored before the table existed gains them on re-scoring and the stored
predictions never change:

- ``generator_family``: the family of the sample's generator. A real image that a dataset pairs
  with a generator (the same group value, as in sets of "reals and fakes per generator") follows
  its generator; a real image without one is in the family ``real``; a fake whose generator the
  table does not know is in ``unknown``.
- with a cutoff (task option ``released_after=YYYY-MM``): ``released_after_<cutoff>``, whose values
  are ``after``, ``on_or_before``, ``uncertain`` (a date too coarse to place: ``2024`` against a
  ``2024-06`` cutoff), ``undated`` and ``real`` (the unpaired reals), and two pooled aggregates
  over it: ``released_after_<cutoff>`` (the fakes of generators released after the cutoff with
  their paired reals, plus the unpaired reals) and ``released_on_or_before_<cutoff>`` (the same
  with the older generators). Undated and uncertain fakes are left out of both and counted in
  the group sizes, never guessed. A detector trained before the cutoff meets only unseen
  generators in the first aggregate: the fair test of how it generalises.

The metadata of every generator a run's samples name is written into ``scores.json``
(``generators``), so the leaderboard can order generators by release date and colour them by
family without re-reading any table.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import msgspec

from fdrbench.errors import FdrbenchError
from fdrbench.protocols import Aggregate
from fdrbench.types import FAKE, Truth

#: the task option every task accepts: a cutoff date for the released-after slices
RELEASED_AFTER = "released_after"
FAMILY_KEY = "generator_family"
#: architecture classes; "undisclosed" is a commercial model whose architecture is not published
FAMILIES = ("gan", "diffusion", "autoregressive", "face-manipulation", "undisclosed", "unknown")
#: what the generator was used for in the benchmark's images
KINDS = ("t2i", "edit", "inpaint", "face", "class-conditional", "unconditional", "video", "unknown")
WEIGHTS = ("open", "commercial", "unknown")
DATE_KINDS = ("announcement", "paper", "weights", "hub-created", "")
REAL_FAMILY = "real"
UNKNOWN_FAMILY = "unknown"
WINDOWS = ("after", "on_or_before", "uncertain", "undated", REAL_FAMILY)
_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


class Generator(msgspec.Struct, frozen=True, omit_defaults=True, kw_only=True):
    """What one generator is: the facts a benchmark's raw name stands for."""

    canonical: str
    family: str
    kind: str = "unknown"
    weights: str = "unknown"
    #: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; None when no date is known
    released: str | None = None
    date_kind: str = ""
    date_source: str = ""
    #: the date was checked against the source named, not recalled
    date_verified: bool = False

    def problems(self) -> list[str]:
        out = []
        if not self.canonical.strip():
            out.append("'canonical' is empty")
        if self.family not in FAMILIES:
            out.append(f"family {self.family!r} is not one of {', '.join(FAMILIES)}")
        if self.kind not in KINDS:
            out.append(f"kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.weights not in WEIGHTS:
            out.append(f"weights {self.weights!r} is not one of {', '.join(WEIGHTS)}")
        if self.date_kind not in DATE_KINDS:
            out.append(f"date_kind {self.date_kind!r} is not one of {', '.join(k for k in DATE_KINDS if k)}")
        if self.released is not None:
            try:
                date_span(self.released)
            except FdrbenchError as exc:
                out.append(str(exc))
            if not self.date_source.strip():
                out.append("a release date needs its 'date_source'")
        elif self.date_verified:
            out.append("'date_verified' without a release date")
        return out


class GeneratorsUsed(msgspec.Struct, kw_only=True, omit_defaults=True):
    """``scores.json``'s ``generators``: the table's facts for every generator the run's samples name."""

    key: str
    cutoff: str | None = None
    known: dict[str, Generator] = msgspec.field(default_factory=dict)
    #: values of ``key`` on fake samples that the table does not know
    unknown: list[str] = msgspec.field(default_factory=list)


def normalise_name(text: object) -> str:
    """One spelling per name for lookups only: lower case, no spaces, ``_``, ``-`` or ``.``."""
    return re.sub(r"[\s_.\-]+", "", str(text).strip().lower())


def date_span(text: str) -> tuple[dt.date, dt.date]:
    """The first and last day a date of ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` precision covers."""
    match = _DATE.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise FdrbenchError(f"date {text!r} must be YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(g) if g else None for g in match.groups())
    try:
        if month is None:
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        if day is None:
            return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
        exact = dt.date(year, month, day)
    except ValueError as exc:
        raise FdrbenchError(f"date {text!r} is not a calendar date ({exc})") from exc
    return exact, exact


def check_cutoff(value: object) -> str:
    """The ``released_after`` option's value, checked: a date of the precisions :func:`date_span` reads."""
    if not isinstance(value, str):
        raise FdrbenchError(f"task option {RELEASED_AFTER!r} must be a date YYYY-MM (or YYYY, YYYY-MM-DD), got {value!r}")
    date_span(value)
    return value.strip()


def window(generator: Generator | None, cutoff: str) -> str:
    """``after``, ``on_or_before``, ``uncertain`` or ``undated``: where the generator's release falls."""
    if generator is None or generator.released is None:
        return "undated"
    first, last = date_span(generator.released)
    _, cutoff_end = date_span(cutoff)
    if first > cutoff_end:
        return "after"
    if last <= cutoff_end:
        return "on_or_before"
    return "uncertain"


@dataclass(frozen=True)
class GeneratorTable:
    """What a task hands the engine: the group key naming each sample's generator, and its names' facts.

    ``names`` maps a raw name as the task's samples carry it to its :class:`Generator`; lookups
    compare :func:`normalise_name` spellings. ``real_values`` are values of ``key`` that name a
    real source rather than a generator (an image with such a value is an unpaired real).
    """

    key: str
    names: Mapping[str, Generator]
    real_values: frozenset[str] = frozenset()
    _index: dict[str, Generator] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, Generator] = {}
        for raw, generator in self.names.items():
            norm = normalise_name(raw)
            if norm in index and index[norm] != generator:
                raise FdrbenchError(f"generator names {raw!r} and another spelling of it mean different generators")
            index[norm] = generator
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "real_values", frozenset(normalise_name(v) for v in self.real_values))

    def lookup(self, value: object) -> Generator | None:
        if value is None:
            return None
        return self._index.get(normalise_name(value))

    def is_real_source(self, value: object) -> bool:
        return value is not None and normalise_name(value) in self.real_values


def released_key(cutoff: str) -> str:
    return f"{RELEASED_AFTER}_{cutoff}"


@dataclass(frozen=True)
class GroupPlan:
    """The groups a run is scored over: the task's own keys, then the keys derived from its generator table."""

    task_keys: tuple[str, ...]
    table: GeneratorTable | None = None
    cutoff: str | None = None

    @property
    def derived_keys(self) -> tuple[str, ...]:
        if self.table is None:
            return ()
        keys = [FAMILY_KEY] + ([released_key(self.cutoff)] if self.cutoff else [])
        return tuple(k for k in keys if k not in self.task_keys)

    @property
    def keys(self) -> tuple[str, ...]:
        return (*self.task_keys, *self.derived_keys)

    def aggregates(self) -> dict[str, Aggregate]:
        """The pooled released-after aggregates (none without a cutoff)."""
        if self.table is None or not self.cutoff:
            return {}
        key = released_key(self.cutoff)
        return {
            key: Aggregate(
                key, ("after", REAL_FAMILY), "pooled", f"fakes of generators released after {self.cutoff}, their reals and unpaired reals"
            ),
            f"released_on_or_before_{self.cutoff}": Aggregate(
                key,
                ("on_or_before", REAL_FAMILY),
                "pooled",
                f"fakes of generators released by {self.cutoff}, their reals and unpaired reals",
            ),
        }

    def derive(self, truth: Truth) -> dict[str, str]:
        """The derived group values of one stored truth."""
        if self.table is None:
            return {}
        value = truth.group.get(self.table.key)
        generator = None if self.table.is_real_source(value) else self.table.lookup(value)
        if truth.label == FAKE:
            family = generator.family if generator is not None else UNKNOWN_FAMILY
            when = window(generator, self.cutoff) if self.cutoff else ""
        elif generator is not None:  # a real image paired with a generator follows it
            family, when = generator.family, (window(generator, self.cutoff) if self.cutoff else "")
        else:
            family, when = REAL_FAMILY, REAL_FAMILY
        out = {FAMILY_KEY: family}
        if self.cutoff:
            out[released_key(self.cutoff)] = when
        return {k: v for k, v in out.items() if k in self.derived_keys}

    def used(self, truths: Iterable[Truth]) -> GeneratorsUsed | None:
        """The table's facts for every generator named by ``truths`` (None without a table)."""
        if self.table is None:
            return None
        known: dict[str, Generator] = {}
        unknown: set[str] = set()
        for truth in truths:
            value = truth.group.get(self.table.key)
            if value is None or self.table.is_real_source(value):
                continue
            generator = self.table.lookup(value)
            if generator is not None:
                known[str(value)] = generator
            elif truth.label == FAKE:
                unknown.add(str(value))
        return GeneratorsUsed(key=self.table.key, cutoff=self.cutoff, known=dict(sorted(known.items())), unknown=sorted(unknown))


def plan_groups(task_keys: Iterable[str], table: GeneratorTable | None, options: Mapping[str, object]) -> GroupPlan:
    """The group plan of a task with these keys, generator table and options; a cutoff without a table is an error."""
    raw = options.get(RELEASED_AFTER)
    cutoff = check_cutoff(raw) if raw not in (None, "") else None
    if cutoff and table is None:
        raise FdrbenchError(f"task option {RELEASED_AFTER!r} needs generator metadata, and this task has none (no generator table)")
    return GroupPlan(tuple(task_keys), table, cutoff)
