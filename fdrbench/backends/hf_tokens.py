"""Token-level facts a verdict site needs: which generated token holds it, and which token ids the
other verdict words would have started with in the same place.

A word's first token depends on what precedes it (SentencePiece ``▁fake`` after a space, byte-level
BPE ``Ġfake``, a bare ``fake`` after a quote or newline). The ids are found by encoding the word
after a short context string and removing the context's own ids; the context whose id equals the
token the model actually generated is the one used for every candidate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

#: context name -> a string the word follows in that context
CONTEXTS = {"space": "a ", "attached": "(", "newline": "a\n"}
CASES = ("lower", "Capital", "UPPER")


def cased(word: str, case: str) -> str:
    return {"lower": word.lower(), "Capital": word[:1].upper() + word[1:].lower(), "UPPER": word.upper()}[case]


class TokenCandidates:
    """First-token ids of verdict words, per context, for one tokenizer (computed lazily, cached)."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self._cache: dict[tuple[str, str], int | None] = {}

    def _encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def first_id(self, word: str, context: str) -> int | None:
        """The id the word's first token has after ``context``, or None when the tokenizer merges
        the word into the context (no clean boundary)."""
        key = (word, context)
        if key not in self._cache:
            prefix = CONTEXTS[context]
            base = self._encode(prefix.rstrip(" ")) if prefix.endswith(" ") else self._encode(prefix)
            full = self._encode(prefix + word)
            ok = len(full) > len(base) and full[: len(base)] == base
            token = full[len(base)] if ok else None
            unknown = getattr(self.tokenizer, "unk_token_id", None)
            self._cache[key] = None if token is None or token == unknown else token
        return self._cache[key]

    def all_ids(self, words: Iterable[str]) -> list[int]:
        """Every first-token id any case or context variant of ``words`` can have: the columns to
        keep from each generation step."""
        ids = set()
        for word in words:
            for case in CASES:
                for context in CONTEXTS:
                    token = self.first_id(cased(word, case), context)
                    if token is not None:
                        ids.add(token)
        return sorted(ids)

    def context_of(self, written: str, token_id: int) -> str | None:
        """The context in which ``written`` starts with ``token_id`` (None: no context does)."""
        for context in CONTEXTS:
            if self.first_id(written, context) == token_id:
                return context
        return None

    def candidate_ids(self, written_words: Iterable[str], context: str) -> dict[str, int]:
        """candidate word (already cased as it would be written) -> its first-token id in ``context``."""
        out = {}
        for word in written_words:
            token = self.first_id(word, context)
            if token is not None:
                out[word] = token
        return out


def decode(tokenizer, ids: Sequence[int]) -> str:
    return tokenizer.decode(list(ids), skip_special_tokens=True, clean_up_tokenization_spaces=False)


def token_at(tokenizer, ids: Sequence[int], char_start: int) -> tuple[int, str] | str:
    """Index of the generated token in which the character at ``char_start`` begins, and the text
    between that token's start and ``char_start`` (whitespace for a word-initial token).

    Prefix decodes grow monotonically with the number of tokens, so a binary search needs about
    log2(n) decodes instead of n.
    """
    low, high = 0, len(ids)
    while low < high:
        mid = (low + high) // 2
        if len(decode(tokenizer, ids[: mid + 1])) > char_start:
            high = mid
        else:
            low = mid + 1
    if low >= len(ids):
        return "the verdict word lies beyond the generated tokens"
    before = decode(tokenizer, ids[:low])
    full = decode(tokenizer, ids)
    if not full.startswith(before) or len(before) > char_start:
        return "the tokenizer's prefix decodes do not line up with the answer text"
    return low, full[len(before) : char_start]
