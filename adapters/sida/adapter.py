"""``sida`` and ``sida_description``: SIDA (CVPR 2025) as an fdrbench detector.

Two ways to run it, both recorded in the manifest:

- ``mode=teacher_forced`` (``sida``'s default): one forward pass over the released question
  followed by the answer ``[CLS] The image is tampered [SEG]``, as the authors' ``test.py``
  scores SID-Set. The class comes from the head before ``[CLS]``, which sees only the image
  and question; the mask from the ``[SEG]`` of that answer, kept when the predicted class is
  tampered (``mask_from=predicted``) or, as ``test.py`` does, when the true class is
  (``mask_from=truth``).
- ``mode=generate`` (``sida_description``'s default): greedy decoding as the chat scripts;
  class and mask are then read at the generated ``[CLS]``/``[SEG]`` tokens, and the
  description model's explanation is parsed from its text.

Either way ``class_probs`` holds the softmax of the three class logits and ``p_fake`` is
1 - p(real). ``--model-arg weights=FOLDER`` points at a downloaded checkpoint.

Images are turned upright by their EXIF orientation before both branches see them, as the
authors' OpenCV ``imread`` does (``exif=ignore`` keeps the stored pixel order); masks are then
predicted on the upright image.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fdrbench.adapters.sida import prompts
from fdrbench.adapters.sida.config import CLASS_NAMES, TAMPERED
from fdrbench.adapters.sida.loader import AUTO_DTYPE_RULE
from fdrbench.api.detector import Detector, RunContext
from fdrbench.api.task import Task
from fdrbench.errors import FdrbenchError
from fdrbench.types import Prediction, Sample

MODES = {
    "teacher_forced": "one forward pass over the question and the answer '[CLS] The image is tampered [SEG]' (the authors' test.py)",
    "generate": "greedy decoding, one beam (the authors' chat scripts); class and mask read at the generated [CLS]/[SEG]",
}
MASK_FROM = ("predicted", "truth")
CLASS_FROM = ("head", "text")
EXIF = {
    "apply": "EXIF orientation applied before preprocessing, as OpenCV's imread (the authors' decoder) does",
    "ignore": "EXIF orientation ignored: the pixels in the order the file stores them",
}


class SidaDetector(Detector):
    """Three-way verdict, class probabilities and a tampered-region mask from a released SIDA checkpoint."""

    name = "sida"
    variant = "sida"
    default_weights = "saberzl/SIDA-7B"
    default_mode = "teacher_forced"

    def __init__(
        self,
        weights: str | None = None,
        mode: str | None = None,
        prompt: str = "train",
        mask_from: str = "predicted",
        class_from: str = "head",
        clip: str | None = None,
        sam: str | dict | None = None,
        dtype: str = "auto",
        max_new_tokens: int = 512,
        exif: str = "apply",
    ):
        self.weights = str(weights or self.default_weights)
        self.mode = mode or self.default_mode
        self.prompt = prompt
        self.mask_from = mask_from
        self.class_from = class_from
        self.clip = clip
        self.sam = sam
        self.dtype = dtype
        self.max_new_tokens = int(max_new_tokens)
        self.exif = exif
        if exif not in EXIF:
            raise FdrbenchError(f"{self.name}: exif must be apply or ignore, got {exif!r}")
        if self.mode not in MODES:
            raise FdrbenchError(f"{self.name}: mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if mask_from not in MASK_FROM:
            raise FdrbenchError(f"{self.name}: mask_from must be predicted or truth, got {mask_from!r}")
        if mask_from == "truth" and self.mode != "teacher_forced":
            raise FdrbenchError(f"{self.name}: mask_from=truth needs mode=teacher_forced (a generated answer has its own [SEG])")
        if class_from not in CLASS_FROM:
            raise FdrbenchError(f"{self.name}: class_from must be head or text, got {class_from!r}")
        if class_from == "text" and self.mode != "generate":
            raise FdrbenchError(f"{self.name}: class_from=text needs mode=generate (teacher forcing writes no text)")
        if self.max_new_tokens < 1:
            raise FdrbenchError(f"{self.name}: max_new_tokens must be positive")
        self.question = prompts.question(self.variant, prompt)
        self.loaded = None

    # ----------------------------------------------------------------- lifecycle

    def identity(self, task: Task | None) -> dict[str, Any]:
        """A local checkpoint's fingerprint, so changed weights start a new run."""
        from fdrbench.adapters.sida.loader import fingerprint

        path = Path(self.weights).expanduser()
        return {"weights_fingerprint": fingerprint(path) if path.is_dir() else None}

    def setup(self, ctx: RunContext) -> None:
        super().setup(ctx)
        from fdrbench.adapters.sida import loader, processing

        self.loaded = loader.load(self.weights, clip=self.clip, sam=self.sam, device=ctx.device, dtype=self.dtype)
        tokenizer = self.loaded.tokenizer
        if self.variant == "description" and len(tokenizer(prompts.END, add_special_tokens=False).input_ids) != 1:
            tokenizer.add_tokens(prompts.END)  # the description chat script adds it when the tokenizer lacks it
        self.cls_id = prompts.token_id(tokenizer, prompts.CLS)
        self.seg_id = prompts.token_id(tokenizer, prompts.SEG)
        vocab = self.loaded.config.llm.vocab_size
        for token, idx in ((prompts.CLS, self.cls_id), (prompts.SEG, self.seg_id)):
            if idx >= vocab:
                raise FdrbenchError(f"{self.weights}: token {token} has id {idx}, beyond the model's {vocab} embeddings")
        self.clip_processor = processing.clip_processor(self.loaded.clip_source)
        forced = prompts.conversation(self.question, prompts.ANSWERS["tampered"])
        self.forced_ids = prompts.tokenize(tokenizer, forced)
        self.prompt_ids = prompts.tokenize(tokenizer, prompts.conversation(self.question))

    def close(self) -> None:
        if self.loaded is not None:
            device = str(self.loaded.model.device)
            self.loaded = None
            if device.startswith("cuda"):
                import torch

                torch.cuda.empty_cache()

    def describe(self) -> dict:
        from fdrbench.adapters.sida.loader import fingerprint

        loaded = self.loaded
        out: dict[str, Any] = {
            "name": self.name,
            "variant": self.variant,
            "weights": self.weights,
            "weights_folder": str(loaded.folder) if loaded else None,
            "weights_fingerprint": fingerprint(loaded.folder) if loaded else self.identity(None).get("weights_fingerprint"),
            "clip": str(loaded.clip_source) if loaded and loaded.clip_source else self.clip,
            "sam": self.sam or "vit_h",
            "mode": self.mode,
            "modes": dict(MODES),
            "prompt": self.question,
            "prompt_name": self.prompt if self.prompt in prompts.QUESTIONS[self.variant] else "custom",
            "template": "llava_v1",
            "conversation": prompts.conversation(self.question),
            "class_from": self.class_from,
            "mask_from": self.mask_from if self.mode == "teacher_forced" else "predicted",
            "mask_rule": "first [SEG] mask, logit > 0, at the image's size",
            "exif_orientation": EXIF[self.exif],
            "dtype": str(loaded.model.dtype).removeprefix("torch.") if loaded else self.dtype,
            "dtype_requested": self.dtype,
            "dtype_auto": AUTO_DTYPE_RULE,
        }
        if self.mode == "teacher_forced":
            out["teacher_forced_answer"] = prompts.ANSWERS["tampered"]
        else:
            out["generation"] = {"do_sample": False, "num_beams": 1, "max_new_tokens": self.max_new_tokens}
        if loaded:
            out["config"] = loaded.config.summary()
            out["derived_keys_skipped"] = len(loaded.report.derived)
        return out

    # ----------------------------------------------------------------- inference

    def predict(self, batch: list[Sample]) -> list[Prediction]:
        if self.loaded is None:
            raise FdrbenchError(f"{self.name}: setup() must run before predict()")
        import torch

        with torch.inference_mode():
            if self.mode == "teacher_forced":
                return self._predict_forced(batch)
            return [self._predict_generated(sample) for sample in batch]

    def _image(self, sample: Sample):
        """The sample's image as the authors' decoder gives it (upright by EXIF unless ``exif=ignore``)."""
        from fdrbench.adapters.sida.processing import upright

        image = sample.load_image()
        return upright(image) if self.exif == "apply" else image

    def _features(self, images):
        import torch

        from fdrbench.adapters.sida.processing import clip_pixels

        return self.loaded.model.image_features(torch.from_numpy(clip_pixels(self.clip_processor, images)))

    def _predict_forced(self, batch: list[Sample]) -> list[Prediction]:
        import torch

        from fdrbench.adapters.sida.decision import mask_prompts, read_classes

        model = self.loaded.model
        started = time.perf_counter()
        images = [self._image(sample) for sample in batch]
        ids = torch.tensor([self.forced_ids] * len(batch), device=model.device)
        embeds, attention = model.embed(ids, self._features(images))
        hidden = model.last_hidden(embeds, attention)
        readouts = [read_classes(model, hidden[b], ids[b], self.cls_id, self.seg_id) for b in range(len(batch))]
        wanted = {}
        for b, (sample, readout) in enumerate(zip(batch, readouts, strict=True)):
            truth = sample.cls if self.mask_from == "truth" and sample.cls is not None else None
            decides = truth == "tampered" if truth is not None else readout.class_index == TAMPERED
            if decides and len(readout.seg_positions):
                wanted[b] = mask_prompts(model, hidden[b], readout)[:1]
        masks = self._masks(images, wanted)
        per_sample = (time.perf_counter() - started) / len(batch)
        out = []
        for b, (sample, readout) in enumerate(zip(batch, readouts, strict=True)):
            name = readout.class_name
            out.append(
                Prediction(
                    sample_id=sample.id,
                    cls=name,
                    class_probs=readout.class_probs(),
                    p_fake=readout.p_fake,
                    explanation=prompts.CANNED[name] if self.variant == "sida" else None,
                    mask=masks.get(b),
                    latency_s=per_sample,
                    extra={"mode": self.mode, "class_source": "head", "cls_logits": readout.decision_logits.float().tolist()},
                )
            )
        return out

    def _predict_generated(self, sample: Sample) -> Prediction:
        import torch

        from fdrbench.adapters.sida import text as sida_text
        from fdrbench.adapters.sida.decision import mask_prompts, read_classes
        from fdrbench.tasks.sidset.paper import sida_class

        model, tokenizer = self.loaded.model, self.loaded.tokenizer
        started = time.perf_counter()
        image = self._image(sample)
        features = self._features([image])
        ids = torch.tensor([self.prompt_ids], device=model.device)
        embeds, attention = model.embed(ids, features)
        eos = tokenizer.eos_token_id
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (tokenizer.unk_token_id or 0)
        new = model.generate(embeds, attention, self.max_new_tokens, eos_token_id=eos, pad_token_id=pad)
        full = torch.cat([ids, new.to(ids.device)], dim=1)
        # hidden states of the whole answer in one pass, as the authors' uncached decoding leaves them
        hidden = model.last_hidden(*model.embed(full, features))[0]
        readout = read_classes(model, hidden, full[0], self.cls_id, self.seg_id)
        raw = tokenizer.decode(new[0], skip_special_tokens=False)
        text_cls = sida_class(raw)
        head_cls = readout.class_name if readout.has_class else None
        cls = head_cls if self.class_from == "head" else text_cls
        mask = None
        if head_cls == CLASS_NAMES[TAMPERED] and len(readout.seg_positions):
            mask = self._masks([image], {0: mask_prompts(model, hidden, readout)[:1]}).get(0)
        if self.variant == "sida":
            explanation = prompts.CANNED[cls] if cls else None
        else:
            explanation = sida_text.description(raw)
        return Prediction(
            sample_id=sample.id,
            cls=cls,
            class_probs=readout.class_probs() if readout.has_class else None,
            p_fake=readout.p_fake if readout.has_class else None,
            explanation=explanation,
            raw_output=raw,
            mask=mask,
            parse_ok=cls is not None,
            latency_s=time.perf_counter() - started,
            n_tokens=int(new.shape[1]),
            extra={
                "mode": self.mode,
                "class_source": self.class_from if cls is not None else None,
                "head_cls": head_cls,
                "text_cls": text_cls,
                "n_cls": 0 if readout.cls_logits is None else len(readout.cls_logits),
                "n_seg": len(readout.seg_positions),
                "cls_logits": readout.decision_logits.float().tolist() if readout.has_class else None,
            },
        )

    def _masks(self, images, prompts_by_index: dict[int, Any]) -> dict[int, dict]:
        """RLE masks at each image's size for the images that have a mask prompt."""
        if not prompts_by_index:
            return {}
        import numpy as np
        import torch

        from fdrbench.adapters.sida.masks import encode_logits, upscale_logits
        from fdrbench.adapters.sida.processing import sam_input

        model = self.loaded.model
        size = self.loaded.config.sam_image_size
        order = sorted(prompts_by_index)
        inputs = [sam_input(images[b], size) for b in order]
        embeddings = model.sam_embeddings(torch.from_numpy(np.stack([i.pixels for i in inputs])))
        out = {}
        for row, (b, item) in enumerate(zip(order, inputs, strict=True)):
            low = model.decode_masks(embeddings[row : row + 1], prompts_by_index[b])
            out[b] = encode_logits(upscale_logits(low, item.resized, item.original, size)[0])
        return out


class SidaDescriptionDetector(SidaDetector):
    """SIDA-description: the same heads, plus a written explanation parsed from the generated text."""

    name = "sida_description"
    variant = "description"
    default_weights = "saberzl/SIDA-7B-description"
    default_mode = "generate"
