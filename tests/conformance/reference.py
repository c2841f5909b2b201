"""What the authors' library versions make of the fixtures: run inside each version's own environment.

``python tests/conformance/reference.py <build dir>`` picks the work by the transformers installed:

- 4.45.2 (FakeVLM's): builds the tiny random LLaVA from the fixture config (seed 0) and saves it in
  that version's checkpoint layout, as ``lingcco/fakeVLM`` is saved; then, for every processor
  folder and image, the processor's input ids, attention mask and pixel values exactly as
  ``scripts/eval.py`` calls it (raw prompt, ``Image.open`` without conversion), the logits at the
  verdict word of the teacher-forced answer, and a short greedy generation;
- 4.37.2 (FakeReasoning's): the slow LLaMA tokenizer LLaVA's builder loads (``use_fast=False``),
  the prompt split at ``<image>`` and tokenized piece by piece as LLaVA does, the ids of the CPM
  text and verdict words, and the pixels of LLaVA's ``pad`` preprocessing (square canvas in the
  CLIP mean colour, then CLIP's processor);
- 4.31.0 (SIDA's): the slow tokenizer as ``test.py`` loads and extends it, every SIDA prompt
  tokenized as above, and the pixels of images decoded with OpenCV (``cv2.imread``, BGR to RGB):
  CLIP's processor on the array, and SAM's input (longest side 1024, bilinear as torchvision's
  PIL path does, normalised, zero-padded).

This file imports nothing from fdrbench (it is not installed there) and holds no code of the
authors' repositories: the few steps their scripts add around the library are re-stated here.
Results go to ``<build dir>/reference/<model>.npz`` with a ``.json`` beside it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import transformers
from PIL import Image

IMAGE = "<image>"
IMAGE_TOKEN_INDEX = -200
GREEDY_STEPS = 6
#: images whose greedy step logits are stored in full (all images store the generated ids)
STEP_LOGIT_IMAGES = ("astronaut", "tall")


def split_at_image(prompt: str, tokenizer) -> list[int]:
    """Each piece between ``<image>`` marks tokenized as a whole text; one leading BOS kept; -200 between."""
    pieces = [list(tokenizer(piece).input_ids) for piece in prompt.split(IMAGE)]
    keep_bos = bool(pieces and pieces[0] and pieces[0][0] == tokenizer.bos_token_id)
    out = [tokenizer.bos_token_id] if keep_bos else []
    for number, piece in enumerate(pieces):
        if number:
            out.append(IMAGE_TOKEN_INDEX)
        out.extend(piece[1:] if keep_bos and piece and piece[0] == tokenizer.bos_token_id else piece)
    return out


def on_square(image: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    """The image centred on a square of its longer side filled with ``colour`` (LLaVA's ``pad``)."""
    width, height = image.size
    if width == height:
        return image
    side = max(width, height)
    canvas = Image.new(image.mode, (side, side), colour)
    canvas.paste(image, ((side - width) // 2, (side - height) // 2))
    return canvas


def fixtures(root: Path) -> tuple[Path, dict]:
    folder = root / "fixtures"
    return folder, json.loads((folder / "fixtures.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- FakeVLM, transformers 4.45.2


def fakevlm(root: Path) -> dict[str, np.ndarray]:
    import torch
    from transformers import AutoProcessor, LlavaConfig, LlavaForConditionalGeneration

    folder, manifest = fixtures(root)
    config = LlavaConfig(**json.loads((folder / "fakevlm" / "model_config.json").read_text()))
    torch.manual_seed(0)
    model = LlavaForConditionalGeneration(config).eval()
    model.generation_config.eos_token_id = 2
    model.generation_config.pad_token_id = 32001
    model.save_pretrained(folder / "fakevlm" / "model")
    texts = manifest["prompts"]["fakevlm"]
    out: dict[str, np.ndarray] = {}
    for variant in manifest["fakevlm_processors"]:
        processor = AutoProcessor.from_pretrained(str(folder / "fakevlm" / variant))
        answer = processor.tokenizer(texts["answer"], add_special_tokens=False).input_ids
        verdict = answer.index(processor.tokenizer.convert_tokens_to_ids("▁" + texts["verdict_word"]))
        out[f"{variant}/answer_ids"] = np.array(answer)
        for name, file in manifest["images"].items():
            with Image.open(folder / "images" / file) as handle:
                handle.load()
                inputs = processor(text=texts["prompt"], images=handle, return_tensors="pt")
            key = f"{variant}/{name}"
            out[f"{key}/input_ids"] = inputs["input_ids"][0].numpy()
            out[f"{key}/attention_mask"] = inputs["attention_mask"][0].numpy()
            if variant == next(iter(manifest["fakevlm_processors"])):
                out[f"pixels/{name}"] = inputs["pixel_values"][0].numpy()
            ids = torch.cat([inputs["input_ids"], torch.tensor([answer])], dim=1)
            with torch.no_grad():
                logits = model(input_ids=ids, attention_mask=torch.ones_like(ids), pixel_values=inputs["pixel_values"]).logits[0]
                # the logits over the answer: the last rows; row k predicts answer token k
                answer_logits = logits[-len(answer) - 1 : -1]
                out[f"{key}/verdict_logits"] = answer_logits[verdict].numpy()
                out[f"{key}/first_answer_logits"] = answer_logits[0].numpy()
                generated = model.generate(
                    **inputs, max_new_tokens=GREEDY_STEPS, do_sample=False, output_logits=True, return_dict_in_generate=True
                )
            new = generated.sequences[0, inputs["input_ids"].shape[1] :]
            out[f"{key}/greedy_ids"] = new.numpy()
            if name in STEP_LOGIT_IMAGES:
                out[f"{key}/greedy_logits"] = torch.stack(generated.logits, dim=1)[0].numpy()
    return out


# --------------------------------------------------------------------------- FakeReasoning, transformers 4.37.2


def fakereasoning(root: Path) -> dict[str, np.ndarray]:
    from transformers import AutoTokenizer, CLIPImageProcessor

    folder, manifest = fixtures(root)
    texts = manifest["prompts"]["fakereasoning"]
    out: dict[str, np.ndarray] = {}
    for variant in manifest["tokenizer_folders"]:
        tokenizer = AutoTokenizer.from_pretrained(str(folder / "fakereasoning" / variant), use_fast=False)
        out[f"{variant}/prompt_ids"] = np.array(split_at_image(texts["prompt"], tokenizer))
        out[f"{variant}/cpm_text_ids"] = np.array(tokenizer(texts["cpm_text"], add_special_tokens=False).input_ids)
        out[f"{variant}/word_ids"] = np.array([tokenizer.convert_tokens_to_ids(tokenizer.tokenize(w)) for w in texts["words"]]).reshape(-1)
        for number, answer in enumerate(texts["answers"]):
            out[f"{variant}/answer{number}_ids"] = np.array(tokenizer(answer, add_special_tokens=False).input_ids)
    clip = CLIPImageProcessor.from_pretrained(str(folder / "fakereasoning" / "clip"))
    colour = tuple(int(v * 255) for v in clip.image_mean)
    for name, file in manifest["images"].items():
        image = Image.open(folder / "images" / file).convert("RGB")
        out[f"pixels/{name}"] = clip.preprocess(on_square(image, colour), return_tensors="np")["pixel_values"][0]
    return out


# --------------------------------------------------------------------------- SIDA, transformers 4.31.0


SAM_MEAN = np.array([123.675, 116.28, 103.53], dtype=np.float32)
SAM_STD = np.array([58.395, 57.12, 57.375], dtype=np.float32)


def sam_pixels(rgb: np.ndarray, side: int = 1024) -> np.ndarray:
    """SAM's input: longest side to ``side`` (round half up), bilinear on the PIL image, normalised, padded."""
    height, width = rgb.shape[:2]
    scale = side * 1.0 / max(height, width)
    new_h, new_w = int(height * scale + 0.5), int(width * scale + 0.5)
    resized = np.array(Image.fromarray(rgb).resize((new_w, new_h), Image.BILINEAR)).astype(np.float32)
    padded = np.zeros((side, side, 3), dtype=np.float32)
    padded[:new_h, :new_w] = (resized - SAM_MEAN) / SAM_STD
    return padded.transpose(2, 0, 1)


def sida(root: Path) -> dict[str, np.ndarray]:
    import cv2
    from transformers import AutoTokenizer, CLIPImageProcessor

    folder, manifest = fixtures(root)
    out: dict[str, np.ndarray] = {}
    for variant in manifest["tokenizer_folders"]:
        tokenizer = AutoTokenizer.from_pretrained(
            str(folder / "sida" / variant), model_max_length=512, padding_side="right", use_fast=False
        )
        tokenizer.pad_token = tokenizer.unk_token
        tokenizer.add_tokens("[CLS]")
        tokenizer.add_tokens("[SEG]")
        tokenizer.add_tokens(["<im_start>", "<im_end>"], special_tokens=True)
        out[f"{variant}/cls_seg_ids"] = np.array(
            [tokenizer("[CLS]", add_special_tokens=False).input_ids[0], tokenizer("[SEG]", add_special_tokens=False).input_ids[0]]
        )
        for name, text in manifest["prompts"]["sida"].items():
            out[f"{variant}/{name}"] = np.array(split_at_image(text, tokenizer))
    clip = CLIPImageProcessor.from_pretrained(str(folder / "sida" / "clip"))
    for name, file in manifest["images"].items():
        rgb = cv2.cvtColor(cv2.imread(str(folder / "images" / file)), cv2.COLOR_BGR2RGB)
        out[f"decoded/{name}"] = rgb
        out[f"clip/{name}"] = clip.preprocess(rgb, return_tensors="np")["pixel_values"][0]
        out[f"sam/{name}"] = sam_pixels(rgb)
    return out


WORK = {"4.45.2": ("fakevlm", fakevlm), "4.37.2": ("fakereasoning", fakereasoning), "4.31.0": ("sida", sida)}


def main() -> None:
    root = Path(sys.argv[1])
    version = transformers.__version__
    if version not in WORK:
        raise SystemExit(f"transformers {version} is none of the authors' versions {sorted(WORK)}")
    name, work = WORK[version]
    arrays = work(root)
    folder = root / "reference"
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / f"{name}.npz", **arrays)
    libraries = {"transformers": version, "numpy": np.__version__, "pillow": Image.__version__}
    for module in ("tokenizers", "torch", "cv2"):
        if module in sys.modules:
            libraries[module] = getattr(sys.modules[module], "__version__", "?")
    (folder / f"{name}.json").write_text(json.dumps({"model": name, "libraries": libraries, "arrays": len(arrays)}, indent=2) + "\n")
    print(f"{name}: {len(arrays)} arrays from transformers {version} -> {folder / (name + '.npz')}")


if __name__ == "__main__":
    main()
