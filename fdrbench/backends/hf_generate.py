"""Batched generation that keeps, for every step, the raw logits of the verdict-word tokens.

``generate`` returns the raw (unprocessed) logits of every step; right after generation only the
columns of candidate verdict tokens and each step's log-normaliser are kept, on the CPU, so the
memory cost of reading verdict probabilities is a few numbers per token. Greedy decoding is the
default; sampling is seeded per batch from the run seed and the batch's sample ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from fdrbench.backends.hf_tokens import TokenCandidates, decode, token_at
from fdrbench.backends.verdict_site import Verdict, find_verdict_site, has_verdict, summarize, verdict_probabilities, wants_classes
from fdrbench.errors import FdrbenchError


@dataclass(frozen=True)
class GenerationSettings:
    max_new_tokens: int = 512
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float | None = None
    top_k: int | None = None
    repetition_penalty: float | None = None

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise FdrbenchError(f"max_new_tokens must be at least 1, got {self.max_new_tokens}")
        if self.do_sample and self.temperature <= 0:
            raise FdrbenchError("sampling needs a positive temperature; use do_sample=false for greedy decoding")

    def generate_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "do_sample": self.do_sample, "num_beams": 1}
        if self.do_sample:
            kwargs.update(temperature=self.temperature, top_p=self.top_p, top_k=self.top_k)
        else:  # override sampling defaults a checkpoint's generation_config may carry
            kwargs.update(temperature=None, top_p=None, top_k=None)
        if self.repetition_penalty is not None:
            kwargs["repetition_penalty"] = self.repetition_penalty
        return kwargs

    def describe(self) -> dict:
        return asdict(self)


@dataclass
class Completion:
    """One row's answer: its tokens, text, token counts and the kept per-step scores."""

    ids: list[int]
    text: str
    prompt_tokens: int
    finish_reason: str
    scores: np.ndarray  # (steps, candidate columns): raw logits of the candidate tokens
    log_norm: np.ndarray  # (steps,): log-sum-exp of each step's full logits


def batch_seed(seed: int, sample_ids: Sequence[str]) -> int:
    """A sampling seed fixed by the run seed and the batch's samples."""
    text = f"{seed}:" + "\x1f".join(sample_ids)
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    eos = getattr(model.generation_config, "eos_token_id", None)
    if eos is None:
        eos = tokenizer.eos_token_id
    if eos is None:
        return set()
    return {int(e) for e in (eos if isinstance(eos, (list, tuple)) else [eos])}


def generate(
    model: Any, tokenizer: Any, inputs: dict, settings: GenerationSettings, keep_ids: Sequence[int], seed: int | None
) -> list[Completion]:
    """Generate for one left-padded batch; one Completion per row."""
    import torch

    device = model.device
    dtype = model.dtype
    # token_type_ids come from some tokenizers but no decoder-only model's generate takes them
    tensors = {k: v for k, v in inputs.items() if torch.is_tensor(v) and k != "token_type_ids"}
    batch = {k: (v.to(device, dtype=dtype) if v.is_floating_point() else v.to(device)) for k, v in tensors.items()}
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    if settings.do_sample and seed is not None:
        torch.manual_seed(seed)
    with torch.inference_mode():
        out = model.generate(**batch, **settings.generate_kwargs(), pad_token_id=pad, return_dict_in_generate=True, output_logits=True)
    keep = torch.as_tensor(list(keep_ids), dtype=torch.long, device=out.logits[0].device)
    scores = torch.stack([step.float().index_select(-1, keep) for step in out.logits], dim=1).cpu().numpy()
    log_norm = torch.stack([torch.logsumexp(step.float(), dim=-1) for step in out.logits], dim=1).cpu().numpy()
    sequences = out.sequences.cpu()
    del out  # frees the full per-step logits
    prompt_len = batch["input_ids"].shape[1]
    eos = _eos_ids(model, tokenizer)
    completions = []
    for row in range(sequences.shape[0]):
        new = sequences[row, prompt_len:].tolist()
        finish = "length"
        for position, token in enumerate(new):
            if token in eos:
                new, finish = new[: position + 1], "stop"
                break
        completions.append(
            Completion(
                ids=new,
                text=decode(tokenizer, new),
                prompt_tokens=int(batch["attention_mask"][row].sum()) if "attention_mask" in batch else prompt_len,
                finish_reason=finish,
                scores=scores[row, : len(new)],
                log_norm=log_norm[row, : len(new)],
            )
        )
    return completions


def read_verdict(
    completion: Completion,
    tokenizer: Any,
    candidates: TokenCandidates,
    columns: dict[int, int],
    parse,
    words: Sequence[str],
    temperature: float,
    label_space: str,
) -> tuple[float | None, dict[str, float] | None, dict]:
    """``(p_fake, class_probs, info)`` from the logits at the verdict site; probabilities are None
    and ``info["p_fake_missing"]`` says why when the site cannot be read."""
    site = find_verdict_site(completion.text, parse, words)
    if isinstance(site, str):
        return None, None, {"p_fake_missing": site}
    located = token_at(tokenizer, completion.ids, site.start)
    if isinstance(located, str):
        return None, None, {"p_fake_missing": located}
    step, lead = located
    if lead.strip():
        return None, None, {"p_fake_missing": f"the verdict word {site.text!r} starts inside a token"}
    generated = completion.ids[step]
    context = candidates.context_of(site.text, generated)
    if context is None:
        token = tokenizer.convert_ids_to_tokens(generated)
        return None, None, {"p_fake_missing": f"the generated token {token!r} is not how the tokenizer starts {site.text!r}"}
    by_id: dict[int, Verdict] = {}
    clashing: set[int] = set()
    for word, token in candidates.candidate_ids(site.outcomes, context).items():
        verdict = site.outcomes[word]
        if not has_verdict(verdict) or token not in columns:
            continue
        if token in by_id and by_id[token] != verdict:
            clashing.add(token)
        by_id.setdefault(token, verdict)
    if generated in clashing:
        return None, None, {"p_fake_missing": "the verdict token starts words of different verdicts"}
    scored = [(verdict, float(completion.scores[step, columns[token]])) for token, verdict in by_id.items() if token not in clashing]
    if len({verdict for verdict, _ in scored}) < 2:
        return None, None, {"p_fake_missing": "fewer than two verdicts among the candidate tokens at the verdict site"}
    probs = verdict_probabilities(scored, temperature)
    p_fake, class_probs = summarize(probs, wants_classes(site, label_space))
    mass = float(sum(np.exp(completion.scores[step, columns[t]] - completion.log_norm[step]) for t in by_id if t not in clashing))
    info = {
        "verdict_site": {
            "word": site.text,
            "char_start": site.start,
            "token_index": step,
            "token": tokenizer.convert_ids_to_tokens(generated),
            "candidates": {tokenizer.convert_ids_to_tokens(t): list(v) for t, v in by_id.items() if t not in clashing},
            "candidate_mass": round(mass, 6),
            "temperature": temperature,
        }
    }
    return p_fake, class_probs, info
