"""Task base behaviour: splits, duplicate ids, stratified subsets, safe paths, options."""

from __future__ import annotations

import pytest

from fdrbench.errors import DataError, FdrbenchError
from fdrbench.pathsafe import safe_join
from fdrbench.task import Task, subsample
from fdrbench.types import Sample


def make(n_fake: int, n_real: int) -> list[Sample]:
    return [Sample(id=f"f{i}", label=1) for i in range(n_fake)] + [Sample(id=f"r{i}", label=0) for i in range(n_real)]


def test_subsample_keeps_proportions_order_and_is_seeded():
    samples = make(60, 40)
    sub = subsample(samples, 10, seed=0)
    assert len(sub) == 10
    assert sum(s.label for s in sub) == 6
    positions = [samples.index(s) for s in sub]
    assert positions == sorted(positions), "subset keeps the task order"
    assert [s.id for s in subsample(samples, 10, seed=0)] == [s.id for s in sub]
    assert [s.id for s in subsample(samples, 10, seed=1)] != [s.id for s in sub]
    assert subsample(samples, None) is samples
    assert subsample(samples, 500) is samples
    with pytest.raises(FdrbenchError):
        subsample(samples, 0)


def test_subsample_rounding_gives_exact_size():
    samples = make(5, 2)
    for limit in range(1, 8):
        assert len(subsample(samples, limit)) == limit


class Listed(Task):
    name = "listed"
    splits = ("test", "train")

    def __init__(self, items, **options):
        super().__init__(**options)
        self.items = items

    def samples(self, data_dir, split):
        return list(self.items)


def test_load_checks_split_duplicates_and_emptiness(tmp_path):
    with pytest.raises(FdrbenchError, match="no split 'val'"):
        Listed(make(1, 1)).load(tmp_path, "val")
    with pytest.raises(DataError, match="duplicate sample id 'f0'"):
        Listed(make(1, 0) + make(1, 0)).load(tmp_path)
    with pytest.raises(DataError, match="has no samples"):
        Listed([]).load(tmp_path)
    with pytest.raises(DataError, match="data folder for task 'listed' not found"):
        Listed(make(1, 1)).load(tmp_path / "missing")
    assert len(Listed(make(3, 3)).load(tmp_path, limit=2)) == 2


def test_unknown_task_option_is_an_error():
    with pytest.raises(FdrbenchError, match="has no option"):
        Listed([], frame_policy="x")


def test_safe_join_refuses_escapes(tmp_path):
    root = tmp_path / "data"
    (root / "a").mkdir(parents=True)
    assert safe_join(root, "a/img.png") == (root / "a" / "img.png").resolve()
    for bad in ("../secret.png", "a/../../secret.png", "/etc/passwd"):
        with pytest.raises(DataError, match="refused"):
            safe_join(root, bad, record="k", source="ann.json")
    with pytest.raises(DataError, match="expected a relative image path"):
        safe_join(root, "")
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(DataError, match="outside the data folder"):
        safe_join(root, "link/x.png")


def test_default_prompt_and_answer_parsing():
    task = Listed([])
    task.prompt = "Real or fake?"
    assert task.prompt_for(Sample(id="a", label=0)) == "Real or fake?"
    assert task.prompt_for(Sample(id="b", label=0, question="Is the skin real?")) == "Is the skin real?"
    assert task.parse_answer("I am sure this image is fake.", Sample(id="a", label=1)) == 1
    assert task.parse_answer("No idea", Sample(id="a", label=1)) is None
