"""What ``fdrbench submit`` rewrites before a run is published, and what ``--portable`` refuses."""

from __future__ import annotations

import os

import pytest

from fdrbench.sanitise import REDACTED, clean, clean_text, findings, value_findings


@pytest.fixture
def roots(monkeypatch, tmp_path):
    monkeypatch.setenv("FDRBENCH_CACHE", "/srv/cache/fdr")
    monkeypatch.setenv("FDRBENCH_DATA", "/mnt/datasets")
    monkeypatch.setenv("HOME", "/home/alice")
    for key in [k for k in os.environ if "TOKEN" in k.upper() or "KEY" in k.upper() or "SECRET" in k.upper()]:
        monkeypatch.delenv(key)


def test_known_roots_keep_their_tail(roots):
    assert clean_text("/srv/cache/fdr/weights/spectral/demo.json") == "$FDRBENCH_CACHE/weights/spectral/demo.json"
    assert clean_text("/mnt/datasets/mmfr/x.png") == "$FDRBENCH_DATA/mmfr/x.png"
    assert clean_text("/home/alice/models/det.py:Detector") == "~/models/det.py:Detector"


def test_other_absolute_paths_keep_only_the_file_name(roots):
    text = "image file not found: /scratch/bob/x.png, see /var/log/a.log"
    assert clean_text(text) == "image file not found: <abs>/x.png, see <abs>/a.log"
    assert clean_text(r"C:\Users\bob\weights.bin") == r"<abs>\weights.bin"


def test_urls_relative_paths_and_prose_are_left_alone(roots):
    for text in ("https://huggingface.co/org/model/resolve/main/x", "gan/1_fake/a.png", "real/fake", "a / b", "/tmp"):
        assert clean_text(text) == text
        assert list(findings(text)) == []


def test_secrets_are_redacted(roots, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "not-a-pattern-but-set")
    text = "key sk-abcdefghijklmnopqrstuvwxyz012345 and hf_" + "a" * 34 + " and not-a-pattern-but-set"
    assert clean_text(text) == f"key {REDACTED} and {REDACTED} and {REDACTED}"
    assert len(list(findings(text))) == 3


def test_clean_walks_json_and_findings_name_the_key(roots):
    obj = {"adapter": {"args": {"weights": "/home/alice/w.bin", "n": 3}, "list": ["/opt/x/y"]}}
    assert clean(obj) == {"adapter": {"args": {"weights": "~/w.bin", "n": 3}, "list": ["<abs>/y"]}}
    assert list(value_findings(obj)) == [
        "adapter.args.weights: the absolute path '/home/alice/w.bin'",
        "adapter.list[0]: the absolute path '/opt/x/y'",
    ]
