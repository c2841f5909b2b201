"""CPM: the position after the pattern, the probability, the weighted loss, and reading generations."""

from __future__ import annotations

import math

import torch

from fdrbench.adapters.fakereasoning.cpm import CPMIds, cpm_loss, find_positions, p_fake_from_generation
from fdrbench.adapters.fakereasoning.detector import batch_seed, generated_lengths, read_outputs
from fdrbench.adapters.fakereasoning.tiny import tiny_config

IDS = CPMIds(pattern=(7, 8, 9), real_id=3, fake_id=4)
V = 12


def test_first_match_gives_the_position_after_the_pattern():
    ids = torch.tensor(
        [
            [0, 7, 8, 9, 5, 7, 8, 9, 6],  # two matches: the first counts
            [7, 8, 5, 7, 8, 9, 1, 1, 1],  # a broken start, then a match
            [1, 2, 3, 4, 5, 6, 7, 8, 1],  # no match
            [1, 1, 1, 1, 1, 1, 7, 8, 9],  # a match at the very end
        ]
    )
    assert find_positions(ids, IDS.pattern).tolist() == [4, 6, -1, 9]
    assert find_positions(ids[:, :2], IDS.pattern).tolist() == [-1, -1, -1, -1]


def test_probability_is_the_tempered_softmax_of_real_and_fake():
    sequences = torch.tensor([[7, 8, 9, 4, 2], [1, 1, 1, 1, 2], [1, 1, 7, 8, 9]])
    logits = torch.zeros(3, 5, V)
    logits[0, 3, 3], logits[0, 3, 4] = 2.0, 12.0  # step 3 is where the word after "is" is drawn
    logits[0, 2, 4] = 50.0  # other steps do not matter
    p, steps = p_fake_from_generation(sequences, logits, IDS, tau=10.0)
    assert steps == [3, None, None]
    assert math.isclose(p[0], 1 / (1 + math.exp(-1.0)), rel_tol=1e-6)  # softmax([2, 12] / 10)[1] = sigmoid(1)
    assert p[1] is None and p[2] is None  # no pattern; pattern with no step after it


def test_training_loss_weights_samples_without_the_pattern_zero():
    logits = torch.full((2, 6, V), -5.0)
    # row 0: argmax spells 7 8 9 at positions 1..3, so k = 4; row 1 never does
    for pos, tok in ((1, 7), (2, 8), (3, 9)):
        logits[0, pos, tok] = 5.0
    logits[0, 4, 3], logits[0, 4, 4] = 1.0, 4.0
    logits[1, :, 1] = 5.0
    labels = torch.tensor([0, 1])
    loss, found = cpm_loss(logits, labels, IDS, tau=10.0)
    assert found.tolist() == [True, False]
    expected = -math.log(math.exp(0.1) / (math.exp(0.1) + math.exp(0.4)))  # CE of [1, 4]/10 against "real"
    assert math.isclose(loss.item(), expected / (1 + 1e-6), rel_tol=1e-6)
    none, found = cpm_loss(logits[1:], labels[1:], IDS, tau=10.0)
    assert float(none) == 0.0 and not found.any()


def test_generated_length_stops_at_the_first_eos():
    sequences = torch.tensor([[5, 6, 2, 0, 0], [5, 6, 7, 8, 9]])
    assert generated_lengths(sequences, 2) == [3, 5]
    assert generated_lengths(sequences, None) == [5, 5]


def test_reading_a_generation_gives_verdict_reasoning_and_cpm(tokenizer):
    from fdrbench.adapters.fakereasoning.cpm import cpm_ids

    ids = cpm_ids(tokenizer, tiny_config(len(tokenizer)))
    good = (
        "<SUMMARY> s </SUMMARY> <REASONING> From low-level perspective: smooth skin. </REASONING> "
        "<CONCLUSION> This image is fake. </CONCLUSION>"
    )
    bad = "<SUMMARY> s </SUMMARY> no verdict here"
    rows = [tokenizer(t, add_special_tokens=False).input_ids + [tokenizer.eos_token_id] for t in (good, bad)]
    width = max(len(r) for r in rows)
    sequences = torch.tensor([r + [0] * (width - len(r)) for r in rows])
    k = find_positions(sequences, ids.pattern)[0].item()
    assert sequences[0, k].item() == ids.fake_id
    logits = torch.zeros(2, width, len(tokenizer))
    logits[0, k, ids.real_id], logits[0, k, ids.fake_id] = -5.0, 5.0
    out = read_outputs(tokenizer, sequences, logits, ids, tau=10.0, eos_id=tokenizer.eos_token_id)
    assert out[0]["text"] == good and out[0]["n"] == len(rows[0])
    assert out[0]["parsed"].label == 1 and out[0]["parsed"].reasoning == "From low-level perspective: smooth skin."
    assert math.isclose(out[0]["p_fake"], 1 / (1 + math.exp(-1.0)), rel_tol=1e-6) and out[0]["cpm_step"] == k
    assert out[1]["text"] == bad and out[1]["parsed"].label is None and out[1]["p_fake"] is None


def test_batch_seed_depends_on_seed_and_ids_only():
    assert batch_seed(0, ["a", "b"]) == batch_seed(0, ["a", "b"])
    assert len({batch_seed(0, ["a", "b"]), batch_seed(1, ["a", "b"]), batch_seed(0, ["b", "a"])}) == 3
