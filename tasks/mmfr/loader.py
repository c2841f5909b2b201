"""MMFR's released tree read into Samples: the evaluation sets and the training split.

Layout (after ``fdrbench data prepare mmfr_eval`` joins and extracts the released archive)::

    <root>/evaluation_sets/<set>/0_real/<image>      label 0
    <root>/evaluation_sets/<set>/1_fake/<image>      label 1
    <root>/evaluation_sets/<set>/<set>_reasoning.json
    <root>/diffusiondb/part-*/<uuid>.png + diffusiondb/diffusiondb_reasoning.json   training fakes
    <root>/laion/<NNNNN>/<id>.jpg + laion/laion_reasoning.json                       training reals
    <root>/forgery_reasoning_cot.json                                                training CoT (LLaVA format)

``<root>`` may also be the folder that contains ``dataset/`` (the archive's top folder).

Evaluation follows the paper's script: the samples of a set are the entries of its reasoning
file, each key ``"<set>/<0_real|1_fake>/<file>"`` a path relative to ``evaluation_sets/``
whose label is read from ``0_real`` / ``1_fake`` (already fdrbench's real = 0, fake = 1); the
reference text is the non-null descriptions in sorted key order joined by one space (real
entries may carry extra, non-canonical keys: they are kept, as the script keeps them). Images on
disk without an entry (annotations dropped in review) are counted and left out unless
``unannotated="include"``. Training samples are labelled by the paper's rule on the CoT answer's
``<CONCLUSION>`` tag, or by the folder of the reasoning file (DiffusionDB fake, LAION real).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from fdrbench.errors import DataError
from fdrbench.pathsafe import inside, safe_join
from fdrbench.tasks.common.loading import (
    LoadContext,
    SplitNotFound,
    as_choice,
    expect,
    first_existing,
    read_json,
    record_image,
    relative_to,
)
from fdrbench.types import FAKE, REAL, Reference, Sample

MMFR_SETS = ("stablediffusion", "dalle3", "if", "midjourney", "kandinsky", "pixart", "flux", "gpt4o", "styleganxl", "gigagan")
DM_SETS = MMFR_SETS[:8]
GAN_SETS = ("styleganxl", "gigagan")
FORGERY_ATTRIBUTES = (
    "Inconsistent Lighting and Shadows",
    "Irregular Image Edges",
    "Anomalous Image Texture",
    "Low Image Quality",
    "Semantic Irrationality",
)
AUTHENTIC_ATTRIBUTES = (
    "Consistent Lighting and Shadows",
    "Smooth and Natural Image Edges",
    "Natural and Consistent Image Texture",
    "High Image Quality",
    "Semantic Rationality",
)
LABEL_FOLDERS = {"0_real": REAL, "1_fake": FAKE}
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
DOWNLOAD_HINT = (
    "download the dataset.part*.tar files of HF AnnaGao/MMFR-Dataset into one folder and run "
    "`fdrbench data prepare mmfr_eval --arg parts_dir=<that folder> --arg out=<data dir>` (it joins the parts in numeric "
    "order and extracts them safely), then pass --data-dir <data dir>"
)
COT_FILE = "forgery_reasoning_cot.json"
#: training annotation files: folder -> (reasoning file, label of every image in it)
TRAIN_REASONING = {"diffusiondb": ("diffusiondb_reasoning.json", FAKE), "laion": ("laion_reasoning.json", REAL)}
#: the tagged sections of a FakeReasoning answer, in order
ANSWER_TAGS = ("SUMMARY", "CAPTION", "REASONING", "CONCLUSION")


def tag_content(text: str, tag: str) -> str | None:
    """The stripped text inside the first ``<TAG>...</TAG>`` (across lines), or None without one."""
    match = re.search(rf"<{tag}>(.*?)</{tag}>", text, re.S)
    return match.group(1).strip() if match else None


# --------------------------------------------------------------------------- evaluation sets


def reference_text(attributes: dict) -> str:
    """The paper's ground-truth reasoning string: non-null descriptions, keys sorted, space-joined."""
    return " ".join(str(attributes[key]) for key in sorted(attributes) if attributes[key] is not None)


def attribute_reference(attributes: dict, label: int) -> Reference:
    """Reference text plus the attribute dict, with any keys outside the label's five named."""
    canonical = FORGERY_ATTRIBUTES if label == FAKE else AUTHENTIC_ATTRIBUTES
    extra = sorted(k for k in attributes if k not in canonical)
    parts: dict = {"attributes": dict(attributes)}
    if extra:
        parts["extra_keys"] = extra
    return Reference(text=reference_text(attributes), parts=parts)


def dataset_root(data_dir: Path, marker: str) -> Path:
    """``data_dir`` or ``data_dir/dataset`` (the archive's top folder), whichever holds ``marker``."""
    found = first_existing(base / marker for base in (data_dir, data_dir / "dataset"))
    if found is None:
        raise SplitNotFound(f"no {marker} (looked in the folder and in dataset/)", path=data_dir, hint=DOWNLOAD_HINT)
    return found.parent


def evaluation_root(data_dir: Path) -> Path:
    """``<data_dir>/evaluation_sets`` or ``<data_dir>/dataset/evaluation_sets``."""
    return dataset_root(data_dir, "evaluation_sets") / "evaluation_sets"


def read_reasoning(path: Path) -> dict[str, dict]:
    """One ``*_reasoning.json``: key -> attribute dict; malformed entries are errors naming the key."""
    data = read_json(path)
    expect(isinstance(data, dict), f"expected a JSON object of image key -> attributes, got {type(data).__name__}", path, None)
    for key, value in data.items():
        expect(isinstance(value, dict), f"expected an object of attribute -> description or null, got {type(value).__name__}", path, key)
        for attr, text in value.items():
            expect(
                text is None or isinstance(text, str), f"attribute {attr!r} must be a string or null, got {type(text).__name__}", path, key
            )
    return data


def key_label(key: str, path: Path) -> int:
    """The paper's rule: a key containing ``0_real`` is real, one containing ``1_fake`` is fake."""
    if "0_real" in key:
        return REAL
    if "1_fake" in key:
        return FAKE
    raise DataError("unknown label: expected a key '<set>/0_real/<file>' or '<set>/1_fake/<file>'", path=path, record=key)


def set_names(eval_root: Path) -> list[str]:
    """Set folders present: the paper's ten in the paper's order, then any others sorted."""
    present = {
        p.name
        for p in eval_root.iterdir()
        if p.is_dir() and (any((p / f).is_dir() for f in LABEL_FOLDERS) or (p / f"{p.name}_reasoning.json").is_file())
    }
    return [s for s in MMFR_SETS if s in present] + sorted(present - set(MMFR_SETS))


def folder_images(set_dir: Path) -> Iterator[tuple[str, int, Path]]:
    """(folder key, label, path) of every image file in a set's label folders; a link out of the set is refused."""
    for folder, label in LABEL_FOLDERS.items():
        label_dir = set_dir / folder
        if label_dir.is_dir():
            for path in sorted(label_dir.iterdir()):
                if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                    key = f"{set_dir.name}/{folder}/{path.name}"
                    yield key, label, inside(set_dir.parent, path, record=key, shown=key)


def iter_set(context: LoadContext, eval_root: Path, set_name: str, unannotated: str) -> Iterator[tuple[str, int, Path, dict | None]]:
    """(sample id, label, image path, attributes or None) for the samples of one set."""
    unannotated = as_choice(unannotated, "unannotated", ("skip", "include"))
    set_dir = inside(eval_root, eval_root / set_name, shown=set_name)
    reasoning_path = set_dir / f"{set_name}_reasoning.json"
    if not reasoning_path.is_file():
        context.report.add("sets_without_reasoning_file", str(reasoning_path))
        for key, label, path in folder_images(set_dir):
            yield key, label, path, None
        return
    reasoning = read_reasoning(reasoning_path)
    listed: set[Path] = set()
    for key in sorted(reasoning):
        label = key_label(key, reasoning_path)
        path = safe_join(eval_root, key, record=key, source=reasoning_path)
        listed.add(path)
        if context.image_present(path, key, reasoning_path):
            sample_id = key if key.startswith(f"{set_name}/") else f"{set_name}/{key}"
            yield sample_id, label, path, reasoning[key]
    for key, label, path in folder_images(set_dir):
        if path.resolve() in listed:
            continue
        context.report.add("unannotated_images", key)
        if unannotated == "include":
            yield key, label, path, None


def evaluation_sample(key: str, label: int, path: Path, attributes: dict | None, root: Path, set_name: str) -> Sample:
    """One evaluation sample, grouped by its set; the reference built as the paper builds it."""
    return Sample(
        id=key,
        label=label,
        image=path,
        image_ref=relative_to(path, root),
        group={"generator": set_name},
        reference=attribute_reference(attributes, label) if attributes is not None else Reference(),
    )


def evaluation_samples(context: LoadContext, data_dir: Path, unannotated: str) -> Iterator[Sample]:
    """Every sample of every evaluation set under ``data_dir``, in the paper's set order."""
    eval_root = evaluation_root(data_dir)
    for set_name in set_names(eval_root):
        for key, label, path, attributes in iter_set(context, eval_root, set_name, unannotated):
            yield evaluation_sample(key, label, path, attributes, data_dir, set_name)


# --------------------------------------------------------------------------- training split


def cot_sections(answer: str) -> dict[str, str]:
    """The tagged sections of a CoT answer (summary, caption, reasoning, conclusion) that are present."""
    found = {tag.lower(): tag_content(answer, tag) for tag in ANSWER_TAGS}
    return {name: text for name, text in found.items() if text is not None}


def cot_label(answer: str, path: Path, record: object) -> int:
    """FakeReasoning's training label: 1 if the ``<CONCLUSION>`` content contains ``fake``, else 0."""
    conclusion = tag_content(answer, "CONCLUSION")
    if conclusion is None:
        raise DataError("the gpt turn has no <CONCLUSION>...</CONCLUSION>, from which the label is read", path=path, record=record)
    return FAKE if "fake" in conclusion else REAL


def check_conversation(item: object, path: Path, index: int) -> tuple[str, list[dict]]:
    """A LLaVA record's image path and conversation, validated: a human turn, then a gpt turn."""
    record = f"#{index}"
    expect(isinstance(item, dict), f"expected an object with 'image' and 'conversations', got {type(item).__name__}", path, record)
    if isinstance(item.get("id"), str):
        record = f"#{index} ({item['id']})"
    conversations = item.get("conversations")
    expect(
        isinstance(conversations, list) and len(conversations) >= 2, "expected 'conversations', a list of at least 2 turns", path, record
    )
    for turn, speaker in zip(conversations[:2], ("human", "gpt"), strict=True):
        expect(
            isinstance(turn, dict) and turn.get("from") == speaker and isinstance(turn.get("value"), str),
            f"expected a {speaker!r} turn {{'from': {speaker!r}, 'value': str}}, got {str(turn)[:80]}",
            path,
            record,
        )
    expect(isinstance(item.get("image"), str), "expected 'image', a path relative to the dataset root", path, record)
    return item["image"], conversations


class AttributeIndex:
    """Training attribute entries looked up by image path, whichever of the unverified key forms a file uses.

    Keys may be relative to the dataset root (``diffusiondb/part-000001/x.png``), to the
    annotation's own folder (``part-000001/x.png``) or bare file names; ``key_form`` picks one
    or, with ``auto``, accepts all three.
    """

    FORMS = ("auto", "root", "folder", "name")

    def __init__(self, key_form: str = "auto"):
        self.key_form = as_choice(key_form, "reasoning_keys", self.FORMS)
        self.by_path: dict[str, dict] = {}
        self.by_name: dict[str, dict | None] = {}

    def add_file(self, folder: str, entries: dict[str, dict]) -> None:
        for key, attrs in entries.items():
            if self.key_form in ("auto", "root"):
                self.by_path[key] = attrs
            if self.key_form in ("auto", "folder"):
                self.by_path[f"{folder}/{key}"] = attrs
            if self.key_form in ("auto", "name"):
                name = key.rsplit("/", 1)[-1]
                self.by_name[name] = None if name in self.by_name else attrs  # ambiguous names match nothing

    def lookup(self, relative: str) -> dict | None:
        found = self.by_path.get(relative)
        if found is None:
            found = self.by_name.get(relative.rsplit("/", 1)[-1])
        return found


class NameIndex:
    """File name -> path of every image under a folder, built on first use (for bare-name keys)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._paths: dict[str, Path] | None = None

    def get(self, name: str) -> Path | None:
        if self._paths is None:
            files = sorted(self.folder.rglob("*")) if self.folder.is_dir() else []
            self._paths = {p.name: p for p in files if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES}
        found = self._paths.get(name)
        return inside(self.folder, found, record=name) if found is not None else None


def attribute_files(root: Path) -> Iterator[tuple[str, Path, int]]:
    """(folder, reasoning file, label) of the training reasoning files present."""
    for folder, (file_name, label) in TRAIN_REASONING.items():
        path = root / folder / file_name
        if path.is_file():
            yield folder, path, label


def cot_samples(context: LoadContext, data_dir: Path, key_form: str) -> Iterator[Sample]:
    """One sample per CoT conversation, with the matching attribute entry (if any) in its parts."""
    root = dataset_root(data_dir, COT_FILE)
    path = root / COT_FILE
    items = read_json(path)
    expect(isinstance(items, list), f"expected a JSON list of LLaVA conversation records, got {type(items).__name__}", path, None)
    index = AttributeIndex(key_form)
    for folder, reasoning_path, _ in attribute_files(root):
        index.add_file(folder, read_reasoning(reasoning_path))
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        image, conversations = check_conversation(item, path, i)
        answer = conversations[1]["value"]
        label = cot_label(answer, path, f"#{i}")
        image_path, relative = record_image(root, image, f"#{i}", path)
        if not context.image_present(image_path, f"#{i}", path):
            continue
        base_id = item["id"] if isinstance(item.get("id"), str) and item["id"] else relative
        seen[base_id] = seen.get(base_id, 0) + 1
        sample_id = base_id if seen[base_id] == 1 else f"{base_id}#{seen[base_id]}"
        parts: dict = {"answer": answer, **cot_sections(answer)}
        attributes = index.lookup(relative)
        if attributes is not None:
            parts["attributes"] = dict(attributes)
        yield Sample(
            id=sample_id,
            label=label,
            image=image_path,
            image_ref=relative_to(image_path, data_dir),
            group={"source": relative.split("/", 1)[0]},
            reference=Reference(text=answer, parts=parts),
            meta={"instruction": conversations[0]["value"], "conversations": conversations},
        )


def resolve_training_key(root: Path, folder: str, key: str, key_form: str, names: NameIndex, source: Path) -> Path:
    """The image a training reasoning key names (see :class:`AttributeIndex` for the key forms)."""
    candidates = []
    if key_form in ("auto", "root"):
        candidates.append(safe_join(root, key, record=key, source=source))
    if key_form in ("auto", "folder"):
        candidates.append(safe_join(root / folder, key, record=key, source=source))
    found = first_existing(candidates)
    if found is None and key_form in ("auto", "name"):
        found = names.get(key.rsplit("/", 1)[-1])
    return found or (candidates[0] if candidates else safe_join(root / folder, key, record=key, source=source))


def reasoning_samples(context: LoadContext, data_dir: Path, key_form: str) -> Iterator[Sample]:
    """One sample per entry of the two training reasoning files: DiffusionDB fake, LAION real."""
    root = dataset_root(data_dir, "diffusiondb")
    key_form = as_choice(key_form, "reasoning_keys", AttributeIndex.FORMS)
    files = list(attribute_files(root))
    if not files:
        raise SplitNotFound("no diffusiondb/diffusiondb_reasoning.json or laion/laion_reasoning.json", path=root, hint=DOWNLOAD_HINT)
    for folder, path, label in files:
        entries = read_reasoning(path)
        names = NameIndex(root / folder)
        for key in sorted(entries):
            image_path = resolve_training_key(root, folder, key, key_form, names, path)
            if not context.image_present(image_path, key, path):
                continue
            yield Sample(
                id=relative_to(image_path, root),
                label=label,
                image=image_path,
                image_ref=relative_to(image_path, data_dir),
                group={"source": folder},
                reference=attribute_reference(entries[key], label),
            )
