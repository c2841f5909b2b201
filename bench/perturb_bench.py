"""Cost of each preset perturbation against the cost of loading the image, at 512 px on CPU.

Loading is what every sample pays anyway: open and decode a 512 x 512 photograph stored as JPEG
(quality 90) and as PNG, with the engine's own loader. Each distinct preset member perturbs the
decoded image (a fresh sample id per repeat, so random members draw anew), timed in turn with
the two loads so that a busy machine slows all three alike. The target is a perturbation under
10% of the load time of the same image stored as JPEG (the cheaper load, so the stricter bar);
the PNG column is for reference. Timings are medians over repeats.

Usage: ``python bench/perturb_bench.py [--repeats 40] [--target 0.10]``. Prints one line per
member and exits 1 when any member misses the target.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path


def timed(fn, arg) -> float:
    start = time.perf_counter()
    fn(arg)
    return time.perf_counter() - start


def interleaved_ms(perturb, load_jpeg, load_png, repeats: int) -> tuple[float, float, float]:
    """Medians (ms) of perturbing and of the two loads, timed in turn in the same loop, so that
    other work on the machine slows all three alike and their ratio stays fair."""
    perturb(0), load_jpeg(0), load_png(0)  # warm: imports, lookup tables, codec initialisation
    times: tuple[list, list, list] = ([], [], [])
    for index in range(repeats):
        for column, fn in zip(times, (perturb, load_jpeg, load_png), strict=True):
            column.append(timed(fn, index + 1))
    return tuple(statistics.median(column) * 1000 for column in times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--target", type=float, default=0.10, help="largest perturbation cost as a share of the JPEG load time")
    args = parser.parse_args(argv)

    import skimage.data
    from PIL import Image

    from fdrbench.perturb import PRESETS, preset
    from fdrbench.types import open_image

    photo = Image.fromarray(skimage.data.astronaut()).resize((512, 512), Image.Resampling.BICUBIC)
    with tempfile.TemporaryDirectory() as folder:
        jpeg_path, png_path = Path(folder) / "photo.jpg", Path(folder) / "photo.png"
        photo.save(jpeg_path, "JPEG", quality=90)
        photo.save(png_path, "PNG")
        image = open_image(jpeg_path)
        print(f"target: perturbation < {args.target:.0%} of the JPEG load, each timed in turn with the loads ({args.repeats} repeats)")
        print(f"{'member':<28} {'spec':<44} {'ms':>7} {'JPEG ms':>8} {'PNG ms':>7} {'% JPEG':>7} {'% PNG':>7}  verdict")
        seen: dict[str, str] = {}
        missed = []
        for name in PRESETS:
            for condition in preset(name).conditions():
                if condition.canonical in seen:
                    continue
                seen[condition.canonical] = condition.name
                cost, jpeg_ms, png_ms = interleaved_ms(
                    lambda i, c=condition: c(image, f"bench-{i}", 0),
                    lambda i: open_image(jpeg_path),
                    lambda i: open_image(png_path),
                    args.repeats,
                )
                share_jpeg, share_png = cost / jpeg_ms, cost / png_ms
                ok = share_jpeg < args.target
                if not ok:
                    missed.append(condition.name)
                spec = condition.canonical if len(condition.canonical) <= 44 else condition.canonical[:41] + "..."
                print(
                    f"{condition.name:<28} {spec:<44} {cost:7.2f} {jpeg_ms:8.2f} {png_ms:7.2f} {share_jpeg:7.1%} {share_png:7.1%}  "
                    + ("ok" if ok else "MISSED")
                )
    print(f"{len(seen) - len(missed)} of {len(seen)} distinct members within {args.target:.0%} of the JPEG load time")
    if missed:
        print(f"missed: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
