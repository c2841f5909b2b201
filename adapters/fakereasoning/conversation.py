"""Conversation templates and tokenisation as LLaVA does it.

Training used ``vicuna_v1`` (system "... curious user ..."), the released inference ``llava_v1``
(system "... curious human ..."); both use roles USER / ASSISTANT, separator " " after a user turn and
``</s>`` after an assistant turn. The text is split at ``<image>``, each piece tokenised on its own
(later pieces lose their BOS) and the image placeholder id -200 put between them; the model later
replaces it by the fused visual tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fdrbench.adapters.fakereasoning.config import IGNORE_INDEX, IMAGE_TOKEN_INDEX
from fdrbench.errors import DataError, FdrbenchError

IMAGE = "<image>"
PAPER_PROMPT = (
    "Is this image real or fake? Please describe the image, reasoning step-by-step and conclude with "
    "'this image is real' or 'this image is fake'."
)
_CONCLUSION = re.compile(r"<CONCLUSION>(.*?)</CONCLUSION>", re.S)


@dataclass(frozen=True)
class Template:
    name: str
    system: str
    roles: tuple[str, str] = ("USER", "ASSISTANT")
    sep: str = " "
    sep2: str = "</s>"

    def render(self, messages: list[tuple[str, str | None]]) -> str:
        """LLaVA's two-separator layout; a final ``(role, None)`` leaves the assistant turn open."""
        text = self.system + self.sep
        for turn, (role, message) in enumerate(messages):
            if message:
                text += f"{role}: {message}" + (self.sep if turn % 2 == 0 else self.sep2)
            else:
                text += f"{role}:"
        return text


TEMPLATES = {
    "llava_v1": Template(
        "llava_v1",
        "A chat between a curious human and an artificial intelligence assistant. "
        "The assistant gives helpful, detailed, and polite answers to the human's questions.",
    ),
    "vicuna_v1": Template(
        "vicuna_v1",
        "A chat between a curious user and an artificial intelligence assistant. "
        "The assistant gives helpful, detailed, and polite answers to the user's questions.",
    ),
}


def template(name: str) -> Template:
    if name not in TEMPLATES:
        raise FdrbenchError(f"unknown conversation template {name!r}; known: {', '.join(TEMPLATES)}")
    return TEMPLATES[name]


def image_first(text: str) -> str:
    """LLaVA moves ``<image>`` to the front of its turn, followed by a newline."""
    if IMAGE not in text:
        return text
    return IMAGE + "\n" + text.replace(IMAGE, "").strip()


def inference_prompt(question: str, tpl: Template) -> str:
    """``<system> USER: <image>\\n<question> ASSISTANT:``"""
    return tpl.render([(tpl.roles[0], image_first(IMAGE + question)), (tpl.roles[1], None)])


def tokenize_with_image(text: str, tokenizer) -> list[int]:
    """Token ids of ``text`` with -200 where ``<image>`` stood; one BOS at most, at the start."""
    chunks = [tokenizer(chunk).input_ids for chunk in text.split(IMAGE)]
    bos = tokenizer.bos_token_id
    ids: list[int] = []
    offset = 0
    if chunks and chunks[0] and bos is not None and chunks[0][0] == bos:
        offset = 1
        ids.append(bos)
    for number, chunk in enumerate(chunks):
        if number:
            ids.append(IMAGE_TOKEN_INDEX)
        ids.extend(chunk[offset:])
    return ids


def verdict_of_answer(answer: str) -> int | None:
    """The training label as the released code reads it: 1 if the CONCLUSION mentions 'fake', else 0."""
    match = _CONCLUSION.search(answer)
    if not match:
        return None
    return 1 if "fake" in match.group(1).strip() else 0


@dataclass
class TrainingExample:
    input_ids: list[int]
    labels: list[int]
    #: token span of the REASONING text (for FACL), or None when the answer has none
    reasoning_span: tuple[int, int] | None
    #: the prefix tokenisation disagreed with the whole; every label is ignored (LLaVA does the same)
    mismatch: bool


def _turns(conversations: list, record: object) -> list[tuple[str, str]]:
    roles = {"human": 0, "gpt": 1}
    turns = list(conversations)
    if turns and isinstance(turns[0], dict) and turns[0].get("from") != "human":
        turns = turns[1:]
    out = []
    for position, turn in enumerate(turns):
        if not isinstance(turn, dict) or turn.get("from") not in roles or not isinstance(turn.get("value"), str):
            raise DataError(f"turn {position}: expected {{'from': 'human'|'gpt', 'value': str}}", record=record)
        if roles[turn["from"]] != position % 2:
            raise DataError(f"turn {position}: turns must alternate human, gpt, human, ...", record=record)
        out.append((turn["from"], turn["value"]))
    if len(out) < 2:
        raise DataError("a conversation needs a human turn and a gpt answer", record=record)
    return out


def training_example(conversations: list, tokenizer, tpl: Template, record: object = None) -> TrainingExample:
    """Tokenise a LLaVA conversation; only the assistant answers (and their ``</s>``) are supervised."""
    turns = _turns(conversations, record)
    user, assistant = tpl.roles
    messages = [(user if who == "human" else assistant, image_first(text) if who == "human" else text) for who, text in turns]
    full_text = tpl.render(messages)
    ids = tokenize_with_image(full_text, tokenizer)
    labels = [IGNORE_INDEX] * len(ids)
    mismatch = False

    def prefix_length(n_chars: int) -> int:
        nonlocal mismatch
        prefix = tokenize_with_image(full_text[:n_chars], tokenizer)
        if ids[: len(prefix)] != prefix:
            mismatch = True
        return len(prefix)

    cursor = len(tpl.system + tpl.sep)
    answer_spans = []
    reasoning_span = None
    for turn, (role, message) in enumerate(messages):
        head = f"{role}:"
        body_start = cursor + len(head) + 1
        end = body_start + len(message) + len(tpl.sep if turn % 2 == 0 else tpl.sep2)
        if turn % 2 == 1:
            answer_spans.append((prefix_length(cursor + len(head)), prefix_length(end)))
            if reasoning_span is None and "<REASONING>" in message and "</REASONING>" in message:
                open_at = body_start + message.index("<REASONING>") + len("<REASONING>")
                # a prefix must not end in a space: tokenizers attach a space to the word after it
                close_at = body_start + len(message[: message.index("</REASONING>")].rstrip())
                reasoning_span = (prefix_length(open_at), prefix_length(close_at))
        cursor = end
    if not mismatch:
        for start, stop in answer_spans:
            labels[start:stop] = ids[start:stop]
    return TrainingExample(ids, labels, reasoning_span, mismatch)
