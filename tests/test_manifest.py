"""Provenance helpers: secrets never reach a file, counts are not mistaken for secrets, fingerprints."""

from __future__ import annotations

from fdrbench.fingerprints import fingerprint_samples, fingerprint_truths
from fdrbench.record import Truth
from fdrbench.redact import scrub_settings as scrub
from fdrbench.types import Reference, Sample


def test_scrub_hides_secrets_but_not_token_counts():
    args = {
        "api_key": "sk-1",
        "OPENAI_API_KEY": "sk-2",
        "hf_token": "hf-3",
        "client_secret": "x",
        "password": "p",
        "max_new_tokens": 256,
        "n_tokens": 10,
        "nested": [{"Authorization": "Bearer abc", "tokenizer": "llama"}],
        "empty_key": "",
    }
    out = scrub(args)
    assert out["api_key"] == out["OPENAI_API_KEY"] == out["hf_token"] == out["client_secret"] == out["password"] == "***"
    assert out["max_new_tokens"] == 256 and out["n_tokens"] == 10
    assert out["nested"] == [{"Authorization": "***", "tokenizer": "llama"}]
    assert out["empty_key"] == ""


def test_fingerprint_is_order_free_and_sees_annotations():
    a = Sample(id="a", label=1, reference=Reference(text="x"))
    b = Sample(id="b", label=0)
    assert fingerprint_samples([a, b]) == fingerprint_samples([b, a])
    changed = Sample(id="a", label=1, reference=Reference(text="y"))
    assert fingerprint_samples([changed, b]) != fingerprint_samples([a, b])
    assert fingerprint_truths([("a", Truth.of(a, include_mask=False)), ("b", Truth.of(b, include_mask=False))]) == fingerprint_samples(
        [a, b]
    )
