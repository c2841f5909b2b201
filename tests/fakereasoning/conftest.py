"""A tiny FakeReasoning checkpoint in the released layout, written once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="session")
def tokenizer():
    from fdrbench.adapters.fakereasoning.tiny import tiny_tokenizer

    return tiny_tokenizer()


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory: pytest.TempPathFactory):
    """Weights without the vision towers, plus a CLIP folder and an original-layout DINOv2 .pth."""
    from fdrbench.adapters.fakereasoning.tiny import write_tiny_checkpoint

    return write_tiny_checkpoint(tmp_path_factory.mktemp("fakereasoning") / "tiny", seed=0)


@pytest.fixture(scope="session")
def loaded(tiny_ckpt):
    from fdrbench.adapters.fakereasoning.pretrained import load_pretrained

    return load_pretrained(str(tiny_ckpt.weights), clip=str(tiny_ckpt.clip), dino=str(tiny_ckpt.dino))


@pytest.fixture()
def pixels():
    generator = torch.Generator().manual_seed(0)
    return torch.randn(2, 3, 28, 28, generator=generator)


def first_record_conversation() -> list[dict]:
    from fdrbench.adapters.fakereasoning.conversation import PAPER_PROMPT

    return [
        {"from": "human", "value": "<image>\n" + PAPER_PROMPT},
        {
            "from": "gpt",
            "value": "<SUMMARY> s </SUMMARY> <CAPTION> The image shows a cat. </CAPTION> <REASONING> From low-level perspective: "
            "smooth. From high-level perspective: odd. </REASONING> <CONCLUSION> This image is fake. </CONCLUSION>",
        },
    ]


def demo_train(demo_root: Path) -> Path:
    return demo_root / "train"
