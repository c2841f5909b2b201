"""SIDA's released questions, the ``llava_v1`` conversation template, and image-aware tokenization.

The questions are verbatim: the training/evaluation prompts of ``utils/SID_Set.py`` and
``utils/SID_Set_description.py``, and the README's interactive examples typed at ``chat.py`` /
``chat_description.py`` (their typos and double space included: the models saw them so).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from fdrbench.adapters.sida.config import IMAGE_TOKEN_INDEX

if TYPE_CHECKING:  # pragma: no cover
    from transformers import PreTrainedTokenizerBase

SYSTEM = (
    "A chat between a curious human and an artificial intelligence assistant. "
    "The assistant gives helpful, detailed, and polite answers to the human's questions."
)
IMAGE = "<image>"
IM_START, IM_END = "<im_start>", "<im_end>"
CLS, SEG, END = "[CLS]", "[SEG]", "[END]"

QUESTIONS = {
    "sida": {
        "train": "Can you identify if this image is real, full synthetic, or tampered image? Please mask the tampered regions if it is tampered.",
        "chat": "Please answer begin with [CLS] for classification, if the image is  tampered, ouput mask the tampered region.",
    },
    "description": {
        "train": (
            "Can you identify if this image is real, full synthetic, or tampered image? "
            "Please mask the tampered regions if it is tampered and answer why."
        ),
        "chat": (
            "Please answer begin with [CLS] for classification, if the image is  tampered, ouput mask the tampered region and explain why."
        ),
    },
}

#: the training targets' opening, per class; teacher forcing feeds the tampered one
ANSWERS = {
    "real": "[CLS] The image is real",
    "full_synthetic": "[CLS] The image is full synthetic",
    "tampered": "[CLS] The image is tampered [SEG]",
}

#: what ``SIDAForCausalLM.evaluate`` shows instead of the generated text (SIDA-7B/13B only)
CANNED = {
    "real": "[CLS] This image is classified as real. It shows no signs of tampering or synthesis.",
    "full_synthetic": "[CLS] This image is classified as full synthetic. It appears entirely artificially generated.",
    "tampered": "[CLS] This image is classified as tampered. It has been altered. [SEG] A mask highlighting the tampered region is provided.",
}


def question(variant: str, prompt: str) -> str:
    """A named released question (``train`` or ``chat``) of the variant, or the given text itself."""
    return QUESTIONS[variant].get(prompt, prompt)


def conversation(question_text: str, answer: str | None = None, use_im_start_end: bool = True) -> str:
    """``llava_v1`` with the image first: ``SYSTEM USER: <im_start><image><im_end>\\nQ ASSISTANT:[ A</s>]``."""
    image = f"{IM_START}{IMAGE}{IM_END}" if use_im_start_end else IMAGE
    text = f"{SYSTEM} USER: {image}\n{question_text} ASSISTANT:"
    if answer is not None:
        text += f" {answer}</s>"
    return text


def tokenize(tokenizer: PreTrainedTokenizerBase, text: str) -> list[int]:
    """Token ids as the released models saw them, with :data:`IMAGE_TOKEN_INDEX` for ``<image>``.

    As LLaVA's ``tokenizer_image_token``: the text is cut at ``<image>`` and each chunk
    tokenized on its own, the tokenizer's BOS first. Within a chunk, as the slow LLaMA
    tokenizer of transformers 4.31 did: the tokens added to the vocabulary (``[CLS]``,
    ``[SEG]``, ``<im_start>``, ...) are cut out and the whitespace on both sides of them is
    dropped, so ``ASSISTANT: [CLS] The`` gives ``:``, ``[CLS]``, then ``The``, never a lone
    ``▁`` before ``[CLS]`` (newer tokenizers keep it, which would move the position the class
    head reads). The text after an added token is tokenized as the tokenizer writes text that
    follows a special token: ``▁The`` when its ``legacy`` flag is set, ``The`` when not (4.31's
    rule, checked by ``make conformance``).
    """
    added = [t for t in tokenizer.get_added_vocab() if t not in _named_specials(tokenizer)]
    splitter = re.compile("(" + "|".join(re.escape(t) for t in sorted(added, key=len, reverse=True)) + ")") if added else None
    ids = _leading_specials(tokenizer)
    for index, chunk in enumerate(text.split(IMAGE)):
        if index:
            ids.append(IMAGE_TOKEN_INDEX)
        pieces = splitter.split(chunk) if splitter else [chunk]
        for i, piece in enumerate(pieces):
            if i % 2:  # an added token
                ids.append(int(tokenizer.convert_tokens_to_ids(piece)))
                continue
            if i > 0:
                piece = piece.lstrip()
            if i < len(pieces) - 1:
                piece = piece.rstrip()
            if piece:
                ids.extend(_after_special(tokenizer, piece) if i > 0 else tokenizer(piece, add_special_tokens=False).input_ids)
    return ids


def _after_special(tokenizer: PreTrainedTokenizerBase, text: str) -> list[int]:
    """The ids of ``text`` where it follows a special token (the BOS marks the place, then is cut off)."""
    marker = tokenizer.bos_token or tokenizer.unk_token
    head = list(tokenizer(marker, add_special_tokens=False).input_ids) if marker else []
    marked = list(tokenizer(marker + text, add_special_tokens=False).input_ids) if marker else []
    if len(head) == 1 and marked[:1] == head:
        return marked[1:]
    return list(tokenizer(text, add_special_tokens=False).input_ids)


def _leading_specials(tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """The ids the tokenizer puts before a text of its own accord (LLaMA: BOS)."""
    marked = list(tokenizer("a").input_ids)
    plain = list(tokenizer("a", add_special_tokens=False).input_ids)
    for start in range(len(marked) - len(plain) + 1):
        if marked[start : start + len(plain)] == plain:
            return marked[:start]
    return []


def _named_specials(tokenizer: PreTrainedTokenizerBase) -> set[str]:
    """BOS, EOS, UNK and PAD: the tokenizer's own special tokens, which keep their neighbours' spaces."""
    names = (tokenizer.bos_token, tokenizer.eos_token, tokenizer.unk_token, tokenizer.pad_token)
    return {str(t) for t in names if t is not None}


def token_id(tokenizer: PreTrainedTokenizerBase, token: str) -> int:
    """The id of a single added token such as ``[CLS]``; a clear error when the tokenizer lacks it."""
    from fdrbench.errors import FdrbenchError

    ids = tokenizer(token, add_special_tokens=False).input_ids
    if len(ids) != 1 or ids[0] == tokenizer.unk_token_id:
        raise FdrbenchError(f"the tokenizer has no single {token} token (it splits it into {ids}); is this a SIDA checkpoint?")
    return int(ids[0])
