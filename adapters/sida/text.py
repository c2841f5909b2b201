"""Reading SIDA's generated text: clean-up as the chat scripts do, and the description's explanation.

The description models answer ``[CLS] The image is <class> [SEG] <description> [END]`` (the
``[SEG]`` only for tampered images); the explanation is the description between the class
statement and ``[END]``.
"""

from __future__ import annotations

import re

_CLASS_STATEMENT = re.compile(r"(?:\[CLS\])?\s*(?:the|this) image is\s+(?:classified as\s+)?(?:real|full synthetic|tampered)\b\.?", re.I)
_SEG = re.compile(r"^\s*\[SEG\]")
_END = re.compile(r"\[END\]", re.I)
_TAGGED = re.compile(r"<([^>]+)>([^<]+)")


def clean(text: str) -> str:
    """Drop BOS/EOS markers and newlines and fold double spaces, as ``chat.py`` prints its output."""
    return text.replace("<s>", "").replace("</s>", "").replace("\n", "").replace("  ", " ").strip()


def remove_repeated_tags(text: str) -> str:
    """Keep the first of each repeated ``<tag>content`` pair (same tag, same stripped content),
    the text before the first tag unchanged; ``chat_description.py`` post-processes with this rule."""
    pairs = _TAGGED.findall(text)
    if not pairs:
        return text
    head = text.split(f"<{pairs[0][0]}>", 1)[0]
    kept, seen = [], set()
    for tag, content in pairs:
        key = (tag, content.strip())
        if key not in seen:
            seen.add(key)
            kept.append(f"<{tag}>{content}")
    return head + "".join(kept)


def description(text: str) -> str | None:
    """The explanation of a description model's answer: what follows the class statement (and
    ``[SEG]``) up to ``[END]``, de-duplicated and trimmed; None when nothing is left."""
    body = clean(text)
    statement = _CLASS_STATEMENT.search(body)
    if statement:
        body = body[statement.end() :]
    body = _SEG.sub("", body)
    body = _END.split(body, 1)[0]
    body = remove_repeated_tags(body).replace("[CLS]", "").replace("[SEG]", "").strip()
    return body or None
