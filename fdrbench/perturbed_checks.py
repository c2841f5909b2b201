"""What ``fdrbench validate`` checks of a perturbed run (``fdrbench run --perturb``) beyond a clean run's checks.

A perturbed run's data fingerprint is ``perturbed_fingerprint(clean, spec, seed)``; its manifest
keeps ``clean_fingerprint`` (of the unwrapped samples) and ``truths_fingerprint`` (of the truths
as stored, with masks and regions moved by the geometry). The checks tie them together:

* the spec is one this fdrbench parses, written canonically, with its hash, name and seed;
* the data fingerprint is the perturbed fingerprint of the clean one;
* the stored truths hash to ``truths_fingerprint``, and, where no annotated region can have moved
  (no geometric step, or truths without regions), ``truths_fingerprint`` is ``clean_fingerprint``
  itself, so the labels, groups and references are tied to the clean data;
* the clean fingerprint is compared with the task's official one (in :mod:`fdrbench.validate`);
  where regions moved, the moved truths are recomputed from the data when it is available.
"""

from __future__ import annotations

import re
from pathlib import Path

from fdrbench.errors import DataError, FdrbenchError
from fdrbench.fingerprints import fingerprint_samples, fingerprint_truths
from fdrbench.record import Record
from fdrbench.results import Manifest

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def manifest_problems(manifest: Manifest) -> list[str]:
    """Problems of the manifest's ``perturbation`` section and its link to the data fingerprint."""
    from fdrbench import perturb

    info = manifest.perturbation
    where = "manifest.json: perturbation"
    try:
        parsed = perturb.parse(info.spec)
    except FdrbenchError as exc:
        return [f"{where}.spec is not a perturbation this fdrbench reads: {exc}"]
    out = []
    if parsed.canonical != info.spec:
        out.append(f"{where}.spec {info.spec!r} is not in canonical form ({parsed.canonical!r})")
    if parsed.hash != info.hash:
        out.append(f"{where}.hash {info.hash!r} is not the spec's hash {parsed.hash!r}")
    if info.name is not None:
        try:
            named = perturb.member(info.name)
        except FdrbenchError as exc:
            out.append(f"{where}.name: {exc}")
        else:
            if named.canonical != parsed.canonical:
                out.append(f"{where}.name {info.name!r} is {named.canonical!r} in this fdrbench, not the run's {info.spec!r}")
    if (info.random, info.geometric) != (parsed.random, parsed.geometric):
        out.append(f"{where}: 'random' and 'geometric' must be {parsed.random} and {parsed.geometric} for this spec")
    seed = manifest.settings.seed if parsed.random else None
    if info.seed != seed:
        out.append(f"{where}.seed is {info.seed!r}; a {'random' if parsed.random else 'deterministic'} perturbation records {seed!r}")
    for name in ("clean_fingerprint", "truths_fingerprint"):
        if not _SHA256.match(getattr(info, name)):
            out.append(f"{where}.{name} is not a sha256 hex digest")
    want = {"spec": info.spec, "hash": info.hash, "seed": info.seed}
    if manifest.config.get("perturbation") != want:
        out.append(f"manifest.json: config.perturbation is {manifest.config.get('perturbation')!r} but the run says {want!r}")
    if not out and perturb.perturbed_fingerprint(info.clean_fingerprint, parsed, manifest.settings.seed) != manifest.data_fingerprint:
        out.append(
            "manifest.json: 'data_fingerprint' is not the perturbed fingerprint of perturbation.clean_fingerprint "
            "(the clean data or the perturbation were changed after the run)"
        )
    return out


def regions_can_move(manifest: Manifest, records: dict[str, Record]) -> bool:
    """True when the stored truths may differ from the clean ones: a geometric step and annotated regions."""
    from fdrbench.perturb.samples import has_regions

    return bool(manifest.perturbation.geometric) and any(has_regions(r.truth.reference.parts) for r in records.values())


def fingerprint_problems(records: dict[str, Record], manifest: Manifest) -> list[str]:
    """The stored truths against ``truths_fingerprint``, and that against the clean fingerprint where nothing moved."""
    info = manifest.perturbation
    fresh = fingerprint_truths((sid, rec.truth) for sid, rec in records.items())
    if fresh != info.truths_fingerprint:
        return [
            f"the truths stored in the predictions hash to {fresh[:16]}..., not the manifest's perturbation.truths_fingerprint "
            f"{info.truths_fingerprint[:16]}... (labels, groups or references were changed)"
        ]
    if not regions_can_move(manifest, records) and info.truths_fingerprint != info.clean_fingerprint:
        return [
            f"perturbation.truths_fingerprint {info.truths_fingerprint[:16]}... differs from perturbation.clean_fingerprint "
            f"{info.clean_fingerprint[:16]}..., but {info.spec!r} moves no annotated region of these truths, so they must be "
            "the clean truths (labels, groups or references were changed)"
        ]
    return []


def moved_truths_against_data(manifest: Manifest, task, data_dir: Path | None) -> tuple[str | None, str | None]:
    """(problem, note): the moved truths recomputed from the task's data under the run's perturbation.

    Needs the data (``--data-dir`` or the task's default folder); without it the note says the
    moved regions were checked for consistency only.
    """
    from fdrbench import perturb

    info, task_info = manifest.perturbation, manifest.task_info
    split = task_info.split or task.default_split
    try:
        samples = task.load(Path(data_dir) if data_dir else None, split, task_info.limit, manifest.settings.seed)
        fresh = fingerprint_samples(perturb.perturb_samples(samples, info.spec, manifest.settings.seed))
    except DataError as exc:
        first = str(exc).splitlines()[0]
        return None, f"the regions moved by {info.spec!r} were not recomputed from the data ({first}); pass --data-dir to check them"
    if fresh != info.truths_fingerprint:
        return (
            f"the stored truths' moved regions hash to {info.truths_fingerprint[:16]}..., but the data under {info.spec!r} "
            f"gives {fresh[:16]}...: the regions were not moved as the perturbation moves them",
            None,
        )
    return None, f"the regions moved by {info.spec!r} match the data's"
