"""``fakereasoning``: the FakeReasoning detector run the way its authors evaluate it, plus CPM probabilities.

Each image gets the paper's prompt in the ``llava_v1`` template and the model generates with the released
decoding (sampling at temperature 0.2, one beam, up to 512 new tokens; ``greedy=true`` decodes greedily).
The verdict is read with the paper's rule (:func:`fdrbench.tasks.mmfr.paper.fakereasoning`), the REASONING
text is the explanation, and ``p_fake`` comes from CPM at the point where the generated text says
"<CONCLUSION> This image is": ``softmax([z_real, z_fake] / 10)[1]``. When the text never says it,
``p_fake`` is None. Sampling is seeded per batch from the run seed and the batch's sample ids.

Settings (``--model-arg``): ``weights`` (folder or Hub id, default ``AnnaGao/FakeReasoning``),
``revision``, ``clip`` and ``dino`` (vision weights when the checkpoint lacks them), ``dtype``
(``auto`` = float16 on GPU, the authors' evaluation dtype, and float32 on CPU; ``bfloat16`` on request), ``greedy``, ``temperature``, ``top_p``,
``max_new_tokens``, ``template``, ``prompt`` (default the paper's; ``task`` uses the
task's question), ``attn_implementation``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from fdrbench.adapters.fakereasoning.conversation import PAPER_PROMPT
from fdrbench.api.detector import Detector, RunContext, TrainContext
from fdrbench.api.task import Task
from fdrbench.errors import FdrbenchError
from fdrbench.kvargs import construct
from fdrbench.types import Prediction, Sample

DEFAULT_WEIGHTS = "AnnaGao/FakeReasoning"
DTYPES = ("auto", "bfloat16", "float16", "float32")
#: what ``dtype=auto`` means, recorded in the manifest
AUTO_DTYPE_RULE = "float16 on GPU (the released evaluation loads and runs the model in fp16), float32 on CPU"


def resolve_dtype(name: str, device: str):
    import torch

    if name not in DTYPES:
        raise FdrbenchError(f"dtype must be one of {', '.join(DTYPES)}, got {name!r}")
    if name == "auto":
        return torch.float16 if device.startswith("cuda") else torch.float32
    return getattr(torch, name)


def batch_seed(seed: int, sample_ids: list[str]) -> int:
    """The sampling seed of one batch: the same batch gives the same text on every run."""
    digest = hashlib.sha256(f"{seed}:{'|'.join(sample_ids)}".encode()).hexdigest()
    return int(digest[:12], 16)


def generated_lengths(sequences, eos_id: int | None) -> list[int]:
    """New tokens per row, up to and including the first EOS (the rest is padding)."""
    lengths = []
    for row in sequences.tolist():
        n = len(row)
        if eos_id is not None and eos_id in row:
            n = row.index(eos_id) + 1
        lengths.append(n)
    return lengths


def read_outputs(tokenizer, sequences, step_logits, ids, tau: float, eos_id: int | None) -> list[dict]:
    """Text, verdict, reasoning, CPM probability and length of each generated row."""
    from fdrbench.adapters.fakereasoning.cpm import p_fake_from_generation
    from fdrbench.tasks.mmfr.paper import fakereasoning

    p_values, steps = p_fake_from_generation(sequences, step_logits, ids, tau)
    out = []
    for row, n in enumerate(generated_lengths(sequences, eos_id)):
        text = tokenizer.decode(sequences[row, :n].tolist(), skip_special_tokens=True).strip()
        parsed = fakereasoning(text)
        p_fake = p_values[row] if steps[row] is not None and steps[row] < n else None
        out.append({"text": text, "parsed": parsed, "p_fake": p_fake, "cpm_step": steps[row] if p_fake is not None else None, "n": n})
    return out


class FakeReasoningDetector(Detector):
    """FakeReasoning (v3): dual CLIP + DINOv2 encoders, FAFF, LLaVA-1.5-13B, CPM probabilities."""

    name = "fakereasoning"

    def __init__(
        self,
        weights: str = DEFAULT_WEIGHTS,
        revision: str | None = None,
        clip: str | None = None,
        dino: str | None = None,
        dtype: str = "auto",
        greedy: bool = False,
        temperature: float = 0.2,
        top_p: float | None = None,
        max_new_tokens: int = 512,
        template: str = "llava_v1",
        prompt: str | None = None,
        attn_implementation: str = "sdpa",
    ):
        if dtype not in DTYPES:
            raise FdrbenchError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        self.weights = str(weights)
        self.revision = revision
        self.clip = clip
        self.dino = dino
        self.dtype_name = dtype
        self.greedy = bool(greedy) or float(temperature) <= 0
        self.temperature = float(temperature)
        self.top_p = top_p
        self.max_new_tokens = int(max_new_tokens)
        self.template_name = template
        self.prompt = prompt
        self.attn_implementation = attn_implementation
        self.loaded = None

    # ------------------------------------------------------------------ set-up

    def setup(self, ctx: RunContext) -> None:
        from fdrbench.adapters.fakereasoning.conversation import template
        from fdrbench.adapters.fakereasoning.cpm import cpm_ids
        from fdrbench.adapters.fakereasoning.pretrained import load_pretrained
        from fdrbench.adapters.fakereasoning.processing import ImageProcessor

        super().setup(ctx)
        self.device = ctx.device
        self.torch_dtype = resolve_dtype(self.dtype_name, ctx.device)
        self.tpl = template(self.template_name)
        self.loaded = load_pretrained(
            self.weights,
            self.clip,
            self.dino,
            self.revision,
            dtype=self.torch_dtype,
            device=ctx.device,
            attn_implementation=self.attn_implementation,
        )
        self.processor = ImageProcessor(self.loaded.config)
        self.ids = cpm_ids(self.loaded.tokenizer, self.loaded.config)
        self.base_generation = self._base_generation_config()

    def _base_generation_config(self):
        """The checkpoint's generation_config.json when it has one: transformers' generate falls back to
        it for every setting not passed explicitly, as the released evaluation did."""
        from transformers import GenerationConfig

        folder = self.loaded.source.path
        if (folder / "generation_config.json").is_file():
            return GenerationConfig.from_pretrained(str(folder))
        return GenerationConfig()

    def generation_settings(self) -> dict[str, Any]:
        tokenizer = self.loaded.tokenizer
        settings: dict[str, Any] = {
            "num_beams": 1,
            "max_new_tokens": self.max_new_tokens,
            "use_cache": True,
            "pad_token_id": tokenizer.pad_token_id,
            "eos_token_id": tokenizer.eos_token_id,
        }
        if self.greedy:
            settings.update(do_sample=False, temperature=None, top_p=None)
        else:
            # top_p is set even when None: the released script passes top_p=None, which switches
            # nucleus filtering off whatever the checkpoint's generation_config.json says
            settings.update(do_sample=True, temperature=self.temperature, top_p=None if self.top_p is None else float(self.top_p))
        return settings

    def question_for(self, sample: Sample) -> str:
        if self.prompt is None:
            return PAPER_PROMPT
        if self.prompt == "task":
            return self.ctx.task.prompt_for(sample)
        return self.prompt

    # ------------------------------------------------------------------ inference

    def predict(self, batch: list[Sample]) -> list[Prediction]:
        import copy

        import torch

        from fdrbench.adapters.fakereasoning.conversation import inference_prompt, tokenize_with_image

        if self.loaded is None:
            raise FdrbenchError("FakeReasoningDetector.setup() must run before predict()")
        tokenizer = self.loaded.tokenizer
        pixels = self.processor([s.load_image() for s in batch]).to(self.device, self.torch_dtype)
        prompts = [torch.tensor(tokenize_with_image(inference_prompt(self.question_for(s), self.tpl), tokenizer)) for s in batch]
        generation_config = copy.deepcopy(self.base_generation)
        for key, value in self.generation_settings().items():
            setattr(generation_config, key, value)
        torch.manual_seed(batch_seed(self.ctx.seed, [s.id for s in batch]))
        result = self.loaded.model.generate(
            prompts, pixels, generation_config=generation_config, output_logits=True, return_dict_in_generate=True
        )
        step_logits = torch.stack(result.logits, dim=1)
        rows = read_outputs(tokenizer, result.sequences, step_logits, self.ids, self.loaded.config.tau, tokenizer.eos_token_id)
        out = []
        for sample, row in zip(batch, rows, strict=True):
            parsed = row["parsed"]
            p_fake = row["p_fake"]
            out.append(
                Prediction(
                    sample_id=sample.id,
                    label=parsed.label,
                    p_fake=p_fake,
                    class_probs={"real": 1.0 - p_fake, "fake": p_fake} if p_fake is not None else None,
                    explanation=parsed.reasoning,
                    raw_output=row["text"],
                    parse_ok=parsed.ok,
                    n_tokens=row["n"],
                    extra={"conclusion": parsed.conclusion, "cpm_step": row["cpm_step"]},
                )
            )
        return out

    # ------------------------------------------------------------------ provenance

    def identity(self, task: Task) -> dict[str, Any]:
        """Weights source, revision and (for local folders) a quick fingerprint of the weight files."""
        from fdrbench.adapters.fakereasoning.checkpoint_files import quick_fingerprint, weight_files

        out: dict[str, Any] = {"weights": self.weights, "revision": self.revision}
        path = Path(self.weights).expanduser()
        if path.exists():
            out["weights_fingerprint"] = quick_fingerprint(weight_files(path))
        return out

    def describe(self) -> dict:
        info: dict[str, Any] = {
            "name": self.name,
            "weights": self.weights,
            "revision": self.revision,
            "clip": self.clip,
            "dino": self.dino,
            "dtype": self.dtype_name,
            "dtype_auto": AUTO_DTYPE_RULE,
            "template": self.template_name,
            "prompt": PAPER_PROMPT if self.prompt is None else self.prompt,
            "decoding": {
                "greedy": self.greedy,
                "temperature": None if self.greedy else self.temperature,
                "top_p": self.top_p,
                "num_beams": 1,
                "max_new_tokens": self.max_new_tokens,
            },
            "verdict_rule": "fdrbench.tasks.mmfr.paper.fakereasoning",
        }
        if self.loaded is not None:
            info["resolved_dtype"] = str(self.torch_dtype).replace("torch.", "")
            info["load"] = self.loaded.report.to_dict()
            info["cpm"] = {**self.ids.to_dict(), "tau": self.loaded.config.tau, "matches_released_ids": self.ids.matches_released()}
            # special-token ids are left out: the manifest masks every key that mentions a token
            diff = self.base_generation.to_diff_dict()
            info["checkpoint_generation_config"] = {k: v for k, v in diff.items() if "token" not in k}
        return info

    def close(self) -> None:
        self.loaded = None

    # ------------------------------------------------------------------ training recipe

    @classmethod
    def train(cls, ctx: TrainContext, **args) -> dict:
        """``fit`` (default): the released fine-tuning recipe; ``merge``: a full checkpoint from its output."""
        if ctx.action == "fit":
            from fdrbench.adapters.fakereasoning.train import TrainSettings, fit

            return fit(ctx, construct(TrainSettings, args, what="fakereasoning training", flag="--train-arg"))
        if ctx.action == "merge":
            from fdrbench.adapters.fakereasoning.merge import merge

            merge_args = dict(args)
            run_dir = Path(merge_args.pop("run", ctx.out))
            destination = Path(merge_args.pop("to", run_dir / "merged"))
            unknown = sorted(set(merge_args) - {"dtype", "clip", "dino"})
            if unknown:
                raise FdrbenchError(f"fakereasoning merge does not accept {', '.join(unknown)}; it accepts run, to, dtype, clip, dino")
            return merge(run_dir, destination, **merge_args)
        raise FdrbenchError(f"fakereasoning has the training actions 'fit' and 'merge', not {ctx.action!r}")

    @classmethod
    def default_train_out(cls, task: str) -> Path:
        return Path("checkpoints") / "fakereasoning" / task
