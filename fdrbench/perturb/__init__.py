"""Test-time perturbations of benchmark images, with masks and regions kept in register.

A perturbation is a pure function of (image, sample id, run seed): the same sample gets the same
perturbed bytes on every run, shard and resume. It is written as a spec (``jpeg:q=70``,
``resize:side=512,interp=bicubic``, ``jpeg:q=75+resize:side=512``) or named as a preset member
(``fakevlm_t7/jpeg70``); see :mod:`fdrbench.perturb.spec` and :mod:`fdrbench.perturb.presets`.

Where it is wired in: ``fdrbench run --perturb SPEC`` (:func:`fdrbench.resolve.perturbed` wraps
the loaded samples, records :func:`describe` in the manifest and uses :func:`perturbed_fingerprint`
and :func:`run_id_part`), :mod:`fdrbench.perturbed_checks` (what ``fdrbench validate`` checks of
such a run) and ``fdrbench robustness --preset P`` (:mod:`fdrbench.sweep`, one run per
``preset(P).member_names()``). From Python::

    from fdrbench import perturb

    pert = perturb.parse(spec)                    # FdrbenchError with what is accepted, before any work
    samples = list(perturb.perturb_samples(samples, pert, seed))   # lazy: nothing is read here

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
