"""Test-time perturbations of benchmark images, with masks and regions kept in register.

A perturbation is a pure function of (image, sample id, run seed): the same sample gets the same
perturbed bytes on every run, shard and resume. It is written as a spec (``jpeg:q=70``,
``resize:side=512,interp=bicubic``, ``jpeg:q=75+resize:side=512``) or named as a preset member
(``fakevlm_t7/jpeg70``); see :mod:`fdrbench.perturb.spec` and :mod:`fdrbench.perturb.presets`.

Wiring it into a run (``fdrbench run --perturb SPEC``, ``fdrbench robustness --preset P``)::

    from fdrbench import perturb

    pert = perturb.parse(spec)                    # FdrbenchError with what is accepted, before any work
    clean_fp = fingerprint_samples(samples)       # fingerprint of the unwrapped samples
    samples = list(perturb.perturb_samples(samples, pert, seed))   # lazy: nothing is read here
    manifest["perturbation"] = perturb.describe(pert, seed)        # spec, hash, seed, library versions
    manifest["data_fingerprint"] = perturb.perturbed_fingerprint(clean_fp, pert, seed)
    run_id = f"{base_run_id}__{perturb.run_id_part(pert)}"        # distinct folder per condition

    for name in perturb.preset("openfake_jpeg").member_names(): ...  # one run per condition

Wrapped samples keep their ids (so conditions pair sample by sample with the clean run); their
``load_image`` returns the perturbed image, ``load_mask`` the mask moved with it, and ``truth()``
(what the run stores and scores) the transformed mask and regions. Runs whose perturbation
hashes differ must not be ranked together. :func:`format_parity` is the data-check report of
container formats, JPEG qualities, sizes and EXIF per label.
"""

from __future__ import annotations

from fdrbench.perturb.geometry import Plan
from fdrbench.perturb.kinds import KINDS
from fdrbench.perturb.parity import format_parity
from fdrbench.perturb.presets import PRESETS, Preset, member, parse, preset
from fdrbench.perturb.samples import (
    PerturbedSample,
    describe,
    perturb_sample,
    perturb_samples,
    perturbed_fingerprint,
    run_id_part,
    transform_parts,
)
from fdrbench.perturb.spec import Perturbation, Step, step_rng

__all__ = [
    "KINDS",
    "PRESETS",
    "Perturbation",
    "PerturbedSample",
    "Plan",
    "Preset",
    "Step",
    "describe",
    "format_parity",
    "member",
    "parse",
    "perturb_sample",
    "perturb_samples",
    "perturbed_fingerprint",
    "preset",
    "run_id_part",
    "step_rng",
    "transform_parts",
]
