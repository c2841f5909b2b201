"""The perturbation kinds a spec may name: their parameters, defaults, checks and implementation.

Every kind also takes ``p``, the probability that the step is applied to a sample (default 1).
Defaults follow the library a source would most likely have called: resize is bilinear (as
torchvision's ``Resize``), rotation is nearest-neighbour (as PIL's ``rotate`` and torchvision's
``rotate``), JPEG keeps PIL's 4:2:0 chroma subsampling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fdrbench.errors import FdrbenchError
from fdrbench.perturb import geometry, pixels
from fdrbench.perturb.params import Param

INTERP = tuple(geometry.RESAMPLE)
PROBABILITY = Param("p", "float", "probability the step is applied", 0, 1, default=1.0)


@dataclass(frozen=True)
class Kind:
    """One perturbation kind. Pixel kinds have ``apply``; geometric ones have ``plan``."""

    name: str
    help: str
    params: tuple[Param, ...]
    apply: Callable | None = None
    plan: Callable | None = None
    libraries: tuple[str, ...] = ("pillow",)
    one_of: tuple[str, ...] = ()  # exactly one of these must be given
    any_of: tuple[str, ...] = ()  # at least one of these must be given

    @property
    def geometric(self) -> bool:
        return self.plan is not None

    def param(self, name: str) -> Param | None:
        return next((p for p in (*self.params, PROBABILITY) if p.name == name), None)

    def accepted(self) -> str:
        return "; ".join(p.accepts() for p in (*self.params, PROBABILITY))

    def check(self, given: set[str], where: str) -> None:
        """Required parameters present, and the either/or groups respected."""
        for param in self.params:
            if param.required and param.name not in given:
                raise FdrbenchError(f"{where}: {self.name} needs {param.name}; accepted: {self.accepted()}")
        if self.one_of and len(given & set(self.one_of)) != 1:
            raise FdrbenchError(f"{where}: {self.name} takes exactly one of {' or '.join(self.one_of)}; accepted: {self.accepted()}")
        if self.any_of and not given & set(self.any_of):
            raise FdrbenchError(f"{where}: {self.name} needs {' or '.join(self.any_of)} (or both); accepted: {self.accepted()}")


def _interp(default: str, words: tuple[str, ...] = INTERP) -> Param:
    return Param("interp", "word", "resampling filter", words=words, default=default)


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "jpeg",
            "JPEG encode and decode with PIL",
            (
                Param("q", "int", "quality", 1, 100, required=True),
                Param("sub", "word", "chroma subsampling", words=("420", "422", "444"), default="420"),
            ),
            apply=pixels.jpeg,
            libraries=("pillow", "libjpeg"),
        ),
        Kind(
            "webp",
            "lossy WebP encode and decode with PIL",
            (Param("q", "int", "quality", 0, 100, required=True), Param("method", "int", "encoder effort", 0, 6, default=4)),
            apply=pixels.webp,
            libraries=("pillow", "libwebp"),
        ),
        Kind(
            "resize",
            "resize by a factor or to a longest side",
            (
                Param("f", "float", "scale factor", 0, 16, low_open=True),
                Param("side", "int", "longest side in pixels", 1, 65536),
                _interp("bilinear"),
                Param("upscale", "word", "whether side may enlarge a smaller image", words=("yes", "no"), default="yes"),
            ),
            plan=geometry.plan_resize,
            one_of=("f", "side"),
        ),
        Kind(
            "noise",
            "additive Gaussian noise",
            (Param("sigma", "float", "standard deviation on the 0-255 scale", 0, 255, required=True),),
            apply=pixels.noise,
            libraries=("numpy", "scipy"),
        ),
        Kind(
            "blur",
            "Gaussian blur",
            (
                Param("sigma", "float", "standard deviation in pixels", 0, 100, low_open=True),
                Param("k", "int", "kernel size", 1, 255, odd=True),
            ),
            apply=pixels.blur,
            libraries=("numpy", "scipy"),
            any_of=("sigma", "k"),
        ),
        Kind(
            "rotate",
            "rotation counter-clockwise about the centre",
            (
                Param("deg", "float", "degrees", -360, 360, required=True),
                Param("fit", "word", "canvas", words=("same", "expand", "crop"), default="same"),
                _interp("nearest", geometry.ROTATE_RESAMPLE),
            ),
            plan=geometry.plan_rotate,
        ),
        Kind(
            "ccrop",
            "centre crop",
            (Param("size", "int", "largest side kept", 1, 65536), Param("f", "float", "fraction of each side kept", 0, 1, low_open=True)),
            plan=geometry.plan_ccrop,
            one_of=("size", "f"),
        ),
        Kind(
            "rrcrop",
            "random resized crop to a square",
            (
                Param("size", "int", "output side in pixels", 1, 65536, required=True),
                Param("scale", "interval", "area fraction", 0, 1, low_open=True, default=(0.08, 1.0)),
                Param("ratio", "interval", "aspect ratio w/h", 0, 100, low_open=True, default=(0.75, 4 / 3)),
                _interp("bilinear"),
            ),
            plan=geometry.plan_rrcrop,
            libraries=("pillow", "numpy"),
        ),
        Kind("gray", "grayscale, kept as three channels", (), apply=pixels.gray),
    )
}
