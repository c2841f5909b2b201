"""Verdict probabilities from the per-token log-probabilities an API returns.

The verdict site is found in the answer text as for HF models (:mod:`.verdict_site`); the API's
tokens spell the answer, so the token holding the site is found by their offsets. Its
``top_logprobs`` entries are matched to candidate verdict words by their text (``" fake"``,
``"Fake"`` and ``"fake"`` are all the word *fake*). A label (real or fake) with no entry in the
returned top-k is given the lowest returned log-probability, an upper bound on its true value,
and is listed as bounded in the prediction's ``extra``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from fdrbench.backends.openai_client import TokenLogprob
from fdrbench.backends.verdict_site import Verdict, find_verdict_site, has_verdict, summarize, verdict_probabilities, wants_classes

MIN_PREFIX = 3


def _token_index(tokens: Sequence[TokenLogprob], text: str, char_start: int) -> tuple[int, str] | str:
    joined = "".join(t.token for t in tokens)
    if joined != text:
        return "the returned logprob tokens do not spell the answer"
    position = 0
    for index, token in enumerate(tokens):
        end = position + len(token.token)
        if end > char_start:
            return index, joined[position:char_start]
        position = end
    return "the verdict word lies beyond the returned tokens"


def _logsumexp(values: Sequence[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def read_verdict_logprobs(
    text: str,
    tokens: Sequence[TokenLogprob] | None,
    parse: Callable[[str], Verdict],
    words: Sequence[str],
    temperature: float,
    label_space: str,
) -> tuple[float | None, dict[str, float] | None, dict]:
    """``(p_fake, class_probs, info)``; None probabilities with ``info["p_fake_missing"]`` when
    the answer, its tokens or the returned alternatives do not allow one."""
    if not tokens:
        return None, None, {"p_fake_missing": "the server returned no logprobs"}
    site = find_verdict_site(text, parse, words)
    if isinstance(site, str):
        return None, None, {"p_fake_missing": site}
    located = _token_index(tokens, text, site.start)
    if isinstance(located, str):
        return None, None, {"p_fake_missing": located}
    index, lead = located
    if lead.strip():
        return None, None, {"p_fake_missing": f"the verdict word {site.text!r} starts inside a token"}
    chosen = tokens[index]
    piece = chosen.token.strip().lower()
    partial = piece != site.text.lower()  # the word spans several tokens; entries are word prefixes
    entries = dict(chosen.top)
    entries.setdefault(chosen.token, chosen.logprob)
    by_verdict: dict[Verdict, list[float]] = {}
    for token, logprob in entries.items():
        stem = token.strip().lower()
        if not stem:
            continue
        verdicts = {
            verdict
            for word, verdict in site.outcomes.items()
            if has_verdict(verdict) and (word.lower() == stem or (partial and len(stem) >= MIN_PREFIX and word.lower().startswith(stem)))
        }
        if len(verdicts) == 1:
            by_verdict.setdefault(verdicts.pop(), []).append(logprob)
    possible = {verdict for verdict in site.outcomes.values() if has_verdict(verdict)}
    if len(possible) < 2 or not by_verdict:
        return None, None, {"p_fake_missing": "no candidate verdict tokens among the returned alternatives"}
    floor = min(entries.values())
    present_labels = {label for label, _ in by_verdict}
    bounded = [(label, None) for label in sorted({label for label, _ in possible} - present_labels)]
    scored = [(verdict, _logsumexp(values)) for verdict, values in by_verdict.items()]
    scored += [(verdict, floor) for verdict in bounded]
    probs = verdict_probabilities(scored, temperature)
    p_fake, class_probs = summarize(probs, wants_classes(site, label_space))
    info = {
        "verdict_site": {
            "word": site.text,
            "char_start": site.start,
            "token_index": index,
            "token": chosen.token,
            "logprobs": {str(list(v)): round(lp, 6) for v, lp in scored},
            "bounded": [list(v) for v in bounded],
            "temperature": temperature,
        }
    }
    return p_fake, class_probs, info
