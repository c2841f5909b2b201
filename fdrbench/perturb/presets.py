"""Named sets of test-time perturbations as the papers and benchmarks of this field apply them.

Each preset is a list of conditions (members), each a spec, plus where it comes from and how an
open point in the source was read. Where a source's label leaves the meaning open, the preset
takes the likelier reading and a variant preset (``*_alt`` or a named variant) takes the other.
A member is named ``preset/member`` wherever a spec is accepted.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from fdrbench.errors import FdrbenchError
from fdrbench.perturb.spec import COMPOSE, Perturbation, Step, parse_step


@dataclass(frozen=True)
class Preset:
    name: str
    description: str  # states the source
    members: tuple[tuple[str, str], ...]  # (member name, spec)
    readings: str = ""  # how the source's open points were read, and where the other reading is

    def member_names(self) -> list[str]:
        return [f"{self.name}/{name}" for name, _ in self.members]

    def conditions(self) -> list:
        """The members as :class:`~fdrbench.perturb.spec.Perturbation` objects, in order."""
        return [member(full) for full in self.member_names()]


_GAUSSIAN_READING = (
    "'GaussianN' is read as additive Gaussian noise of sigma N on the 0-255 scale: the source names blur "
    "separately, and a blur of sigma 10 would wipe out the detail its small drops imply"
)

_PRESETS = (
    Preset(
        "fakevlm_t7",
        "FakeVLM paper, Table 7 (robustness on FakeClue): JPEG70, Resize0.5, Gaussian10, Rotate15, Blur3",
        (
            ("jpeg70", "jpeg:q=70"),
            ("resize0.5", "resize:f=0.5"),
            ("gaussian10", "noise:sigma=10"),
            ("rotate15", "rotate:deg=15"),
            ("blur3", "blur:k=3"),
        ),
        f"{_GAUSSIAN_READING}; 'Blur3' as a 3x3 Gaussian kernel (OpenCV's GaussianBlur(img, (3, 3), 0)); Rotate15 as PIL's "
        "rotate(15): counter-clockwise, same canvas, nearest neighbour. fakevlm_t7_alt reads Gaussian10 as a blur of "
        "sigma 10 and Blur3 as a blur of sigma 3.",
    ),
    Preset(
        "fakevlm_t7_alt",
        "FakeVLM paper, Table 7, the other reading of its labels: Gaussian10 a blur of sigma 10, Blur3 a blur of sigma 3",
        (
            ("jpeg70", "jpeg:q=70"),
            ("resize0.5", "resize:f=0.5"),
            ("gaussian10", "blur:sigma=10"),
            ("rotate15", "rotate:deg=15"),
            ("blur3", "blur:sigma=3"),
        ),
        "The less likely reading of fakevlm_t7's labels; see fakevlm_t7 for the likelier one.",
    ),
    Preset(
        "sida_fig",
        "SIDA paper, robustness figure of SIDA-7B on SID-Set: JPEG70, JPEG80, Resize0.5, Resize0.75, Gaussian10, Gaussian5",
        (
            ("jpeg70", "jpeg:q=70"),
            ("jpeg80", "jpeg:q=80"),
            ("resize0.5", "resize:f=0.5"),
            ("resize0.75", "resize:f=0.75"),
            ("gaussian10", "noise:sigma=10"),
            ("gaussian5", "noise:sigma=5"),
        ),
        f"{_GAUSSIAN_READING}. sida_fig_alt reads GaussianN as a Gaussian blur of sigma N.",
    ),
    Preset(
        "sida_fig_alt",
        "SIDA paper, robustness figure, the other reading: Gaussian10 and Gaussian5 as Gaussian blurs of sigma 10 and 5",
        (
            ("jpeg70", "jpeg:q=70"),
            ("jpeg80", "jpeg:q=80"),
            ("resize0.5", "resize:f=0.5"),
            ("resize0.75", "resize:f=0.75"),
            ("gaussian10", "blur:sigma=10"),
            ("gaussian5", "blur:sigma=5"),
        ),
        "The less likely reading of sida_fig's labels; see sida_fig for the likelier one.",
    ),
    Preset(
        "aigcdetect",
        "AIGCDetectBenchmark test options: JPEG quality 95 (PIL), Gaussian blur sigma 1 (SciPy gaussian_filter), resize x0.5",
        (("jpeg95", "jpeg:q=95"), ("blur1", "blur:sigma=1"), ("resize0.5", "resize:f=0.5,interp=bilinear")),
        "The resize is torchvision's Resize((h/2, w/2)) on a PIL image: bilinear with PIL's antialiasing, sides floored.",
    ),
    Preset(
        "openfake_jpeg",
        "OpenFake compression sweep (experiments/scripts/compression_sweep.py): PIL JPEG in memory at 90, 75, 50, 25",
        (("jpeg90", "jpeg:q=90"), ("jpeg75", "jpeg:q=75"), ("jpeg50", "jpeg:q=50"), ("jpeg25", "jpeg:q=25")),
        "The sweep's 'none' condition is the clean run.",
    ),
    Preset(
        "social_hard",
        "Sieve audit 'hard' delivery condition: longest edge 512, then JPEG quality 40",
        (("hard", "resize:side=512,upscale=no+jpeg:q=40"),),
        "Read as a platform would deliver: images already within 512 px are not enlarged; resize bilinear. "
        "The audit's 'web' condition is not defined precisely enough to reproduce and is left out.",
    ),
    Preset(
        "aigenbench",
        "AI-GenBench mandatory evaluation pipeline (lightning_data_modules/ai_genbench_pipeline.py): centre crop to "
        "1080 when larger; grayscale p 0.1; JPEG p 0.5; Gaussian noise std 0.015-0.075 of full scale p 0.3; JPEG p 0.2; "
        "random resized crop 256-512 px, scale 0.5-1, ratio 0.9-1/0.9, bilinear/bicubic/lanczos p 0.25; JPEG p 0.1",
        (
            (
                "mandatory",
                "ccrop:size=1080+gray:p=0.1+jpeg:q=50|100,p=0.5+noise:sigma=3.825..19.125,p=0.3+jpeg:q=50|100,p=0.2"
                "+rrcrop:size=256..512,scale=0.5..1,ratio=0.9..1.1111111111111112,interp=bilinear|bicubic|lanczos,p=0.25"
                "+jpeg:q=50|100,p=0.1",
            ),
        ),
        "The source's JPEG step draws its quality from the list [50, 101] as a discrete choice, so each compression is "
        "quality 50 or 101, which libjpeg clamps to 100 (verified: PIL writes identical bytes for 101 and 100); "
        "aigenbench_range reads it as the uniform integer range 50-100. The source picks OpenCV or PIL for each JPEG; "
        "both call libjpeg with 4:2:0 subsampling, and fdrbench uses PIL. Draws come from fdrbench's per-sample "
        "generators, so the distribution is the source's but not its per-image outcomes.",
    ),
    Preset(
        "aigenbench_range",
        "AI-GenBench mandatory evaluation pipeline with JPEG quality read as a uniform integer in 50-100",
        (
            (
                "mandatory",
                "ccrop:size=1080+gray:p=0.1+jpeg:q=50..100,p=0.5+noise:sigma=3.825..19.125,p=0.3+jpeg:q=50..100,p=0.2"
                "+rrcrop:size=256..512,scale=0.5..1,ratio=0.9..1.1111111111111112,interp=bilinear|bicubic|lanczos,p=0.25"
                "+jpeg:q=50..100,p=0.1",
            ),
        ),
        "The reading of the pipeline's JPEG quality as a range; see aigenbench for what its code does.",
    ),
)

PRESETS: dict[str, Preset] = {preset.name: preset for preset in _PRESETS}


def preset(name: str) -> Preset:
    """The preset called ``name``; the error lists every preset."""
    found = PRESETS.get(name)
    if found is None:
        close = difflib.get_close_matches(name, list(PRESETS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise FdrbenchError(f"unknown perturbation preset {name!r}{hint}; presets: {', '.join(PRESETS)}")
    return found


def member(full_name: str) -> Perturbation:
    """``preset/member`` -> its :class:`Perturbation`, carrying that name."""
    preset_name, _, member_name = full_name.strip().partition("/")
    group = preset(preset_name)
    specs = dict(group.members)
    if member_name not in specs:
        raise FdrbenchError(f"preset {group.name!r} has no member {member_name!r}; members: {', '.join(group.member_names())}")
    steps = tuple(parse_step(part) for part in specs[member_name].split("+"))
    return Perturbation(steps, f"{group.name}/{member_name}")


def parse(spec: str | Perturbation) -> Perturbation:
    """A spec or preset member name -> :class:`Perturbation`; a one-line error names what is accepted."""
    if isinstance(spec, Perturbation):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise FdrbenchError(f"empty perturbation spec {spec!r}; write e.g. jpeg:q=70, resize:f=0.5 or fakevlm_t7/jpeg70")
    parts = [part.strip() for part in spec.split(COMPOSE)]
    if any(not part for part in parts):
        raise FdrbenchError(f"perturbation {spec!r}: empty step around '+'; compose as jpeg:q=75+resize:side=512")
    steps: list[Step] = []
    for part in parts:
        steps.extend(member(part).steps if "/" in part else (parse_step(part),))
    name = parts[0] if len(parts) == 1 and "/" in parts[0] else None
    return Perturbation(tuple(steps), name)
