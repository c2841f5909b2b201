"""The results contract as checks, shared by every reader of a run folder and by ``fdrbench validate``.

A results folder is untrusted, so what its files hold is checked before anything uses it: a
field of the wrong type is a one-line error naming the file, line and field, never a crash deep
inside scoring or a broken leaderboard page. Each function returns every problem it finds.

``complete=True`` is what ``validate`` asks: every field a publishable run has must be there.
Readers (score, compare, judge, the leaderboard) pass ``complete=False``: a missing optional
field takes its default, and every field that is present must have the contract's type. The
type rules are the same table in both modes, so whatever ``validate`` accepts, every reader reads.

Stored texts are capped (:data:`MAX_TEXT_CHARS` and friends) so one enormous answer cannot stall
the text metrics; the runner truncates at these caps when a detector returns longer text.
"""

from __future__ import annotations

import json
import math
from typing import Any

from fdrbench.types import BINARY_CLASSES, TERNARY_CLASSES, check_mask, label_of_class

#: the longest explanation or raw output kept (characters); longer ones are cut when predicted
MAX_TEXT_CHARS = 65_536
#: the longest error message kept (characters)
MAX_ERROR_CHARS = 4_000
#: the largest ``extra`` object a prediction may carry, as compact JSON (characters)
MAX_EXTRA_CHARS = 65_536
#: how deeply ``extra`` may nest
MAX_EXTRA_DEPTH = 16
CLASS_NAMES = (*TERNARY_CLASSES, *BINARY_CLASSES[1:])
#: metrics whose values are not bounded by 1 (the rest must lie in [0, 1])
UNBOUNDED_METRICS = frozenset({"nll", "cider"})

NUMBER = "number"  # int or float, not bool, finite
STR_LIST = "list of strings"
_NAMES = {str: "str", int: "int", bool: "bool", dict: "dict", list: "list", NUMBER: "a number", STR_LIST: "a list of strings"}

#: (dotted field, type, nullable, required for a complete run)
MANIFEST_FIELDS: tuple[tuple[str, Any, bool, bool], ...] = (
    ("task", str, False, True),
    ("model", str, False, True),
    ("run_id", str, False, True),
    ("created", str, False, True),
    ("status", str, False, True),
    ("data_fingerprint", str, False, True),
    ("task_info", dict, False, True),
    ("task_info.name", str, True, False),
    ("task_info.version", str, False, True),
    ("task_info.split", str, False, True),
    ("task_info.n_samples", int, False, True),
    ("task_info.limit", int, True, True),
    ("task_info.options", dict, False, True),
    ("task_info.group_keys", STR_LIST, False, False),
    ("task_info.target", str, True, False),
    ("task_info.registered", bool, False, False),
    ("task_info.data_dir", str, True, False),
    ("adapter", dict, False, True),
    ("adapter.name", str, False, True),
    ("adapter.target", str, False, True),
    ("adapter.args", dict, False, True),
    ("adapter.describe", dict, False, True),
    ("settings", dict, False, True),
    ("settings.seed", int, False, True),
    ("settings.n_boot", int, False, True),
    ("settings.protocols", STR_LIST, False, True),
    ("fdrbench", dict, False, True),
    ("fdrbench.version", str, False, False),
    ("fdrbench.commit", str, True, False),
    ("environment", dict, False, True),
    ("config", dict, False, True),
    ("config_hash", str, False, True),
    ("prompt", str, True, False),
    ("prompt_sha256", str, True, False),
    ("timing", dict, False, False),
    ("usage", dict, False, False),
    ("sessions", list, False, False),
    ("judge", dict, False, False),
    ("judge.config_hash", str, True, False),
    ("judge.sessions", list, False, False),
)

SCORES_FIELDS: tuple[tuple[str, Any, bool, bool], ...] = (
    ("task", str, False, True),
    ("task_version", str, False, True),
    ("model", str, False, True),
    ("run_id", str, False, True),
    ("data_fingerprint", str, True, True),
    ("n_expected", int, False, True),
    ("partial", bool, False, True),
    ("settings", dict, False, True),
    ("settings.n_boot", int, False, True),
    ("settings.ci_level", NUMBER, False, True),
    ("settings.seed", int, False, True),
    ("headline_metrics", STR_LIST, False, False),
    ("protocols", dict, False, True),
)

BLOCK_FIELDS: tuple[tuple[str, Any, bool, bool], ...] = (
    ("n", int, False, True),
    ("n_failed", int, False, True),
    ("protocol", dict, False, False),
    ("protocol.description", str, True, False),
    ("overall", dict, False, True),
    ("groups", dict, False, True),
    ("aggregates", dict, False, True),
)

_RECORD_TYPES: dict[str, tuple[Any, int | None]] = {
    "explanation": (str, MAX_TEXT_CHARS),
    "raw_output": (str, MAX_TEXT_CHARS),
    "error": (str, MAX_ERROR_CHARS),
    "cls": (str, None),
    "latency_s": (NUMBER, None),
    "n_tokens": (int, None),
    "class_probs": (dict, None),
    "mask": (dict, None),
}


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _fits(value: Any, kind: Any) -> bool:
    if kind is NUMBER:
        return is_number(value)
    if kind is STR_LIST:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind is int:
        return is_int(value)
    if kind is float:
        return is_number(value)
    return isinstance(value, kind)


def _show(value: Any) -> str:
    try:
        return json.dumps(value)[:60]
    except (TypeError, ValueError):
        return type(value).__name__


def field_problems(obj: dict, fields: tuple[tuple[str, Any, bool, bool], ...], where: str, complete: bool) -> list[str]:
    """Problems of the dotted ``fields`` of ``obj``; a field under a missing or mistyped parent is skipped."""
    out = []
    bad_parents: set[str] = set()
    for dotted, kind, nullable, required in fields:
        parent, _, key = dotted.rpartition(".")
        if parent and (parent in bad_parents or any(parent.startswith(p + ".") for p in bad_parents)):
            bad_parents.add(dotted)
            continue
        container = obj
        for part in parent.split(".") if parent else ():
            container = container.get(part) if isinstance(container, dict) else None
        label = f"{where} {parent}" if parent else where
        if not isinstance(container, dict) or key not in container:
            if complete and required and isinstance(container, dict):
                out.append(f"{label}: missing '{key}'")
            bad_parents.add(dotted)
            continue
        value = container[key]
        if value is None and nullable:
            bad_parents.add(dotted)
            continue
        if not _fits(value, kind):
            out.append(f"{label}: '{key}' must be {_NAMES[kind]}{' or null' if nullable else ''}, got {_show(value)}")
            bad_parents.add(dotted)
    return out


def manifest_problems(manifest: Any, where: str = "manifest.json", complete: bool = False) -> list[str]:
    if not isinstance(manifest, dict):
        return [f"{where}: expected a JSON object"]
    return field_problems(manifest, MANIFEST_FIELDS, where, complete)


# --------------------------------------------------------------------------- scores


def metric_entry_problems(entry: Any, metric: str, where: str) -> list[str]:
    """``{"value": number or null, "ci": [low, high] or null}`` with fractions in [0, 1] (but nll, cider)."""
    if not isinstance(entry, dict) or "value" not in entry or "ci" not in entry:
        return [f"{where}.{metric}: expected {{'value': ..., 'ci': ...}}"]
    out = []
    value, ci = entry["value"], entry["ci"]
    bounded = metric not in UNBOUNDED_METRICS
    if value is not None:
        if not is_number(value):
            out.append(f"{where}.{metric}.value must be a number or null, got {_show(value)[:40]}")
        elif value < 0 or (bounded and value > 1):
            out.append(f"{where}.{metric}.value {value} is outside [0, 1] (values are fractions, never percentages)")
    if ci is not None:
        if not (isinstance(ci, list) and len(ci) == 2 and all(is_number(c) for c in ci)):
            out.append(f"{where}.{metric}.ci must be [low, high] or null, got {_show(ci)[:40]}")
        elif ci[0] > ci[1] or ci[0] < 0 or (bounded and ci[1] > 1):
            out.append(f"{where}.{metric}.ci {ci} is not an interval inside [0, 1]")
    return out


def metric_map_problems(block: Any, where: str) -> list[str]:
    if not isinstance(block, dict):
        return [f"{where}: expected an object of metric -> {{value, ci}}"]
    return [p for metric, entry in block.items() for p in metric_entry_problems(entry, str(metric), where)]


def block_problems(block: Any, where: str, complete: bool = False) -> list[str]:
    """One protocol's block of ``scores.json``: counts, overall, groups and aggregates."""
    if not isinstance(block, dict):
        return [f"{where}: expected an object"]
    out = field_problems(block, BLOCK_FIELDS, where, complete)
    n, n_failed = block.get("n"), block.get("n_failed")
    if is_int(n) and is_int(n_failed) and not 0 <= n_failed <= n:
        out.append(f"{where}: n_failed {n_failed} is not between 0 and n {n}")
    if isinstance(block.get("overall"), dict):
        out += metric_map_problems(block["overall"], f"{where}.overall")
    for key, members in (block.get("groups") if isinstance(block.get("groups"), dict) else {}).items():
        if not isinstance(members, dict):
            out.append(f"{where}.groups.{key}: expected an object of group value -> metrics")
            continue
        for value, metrics in members.items():
            out += metric_map_problems(metrics, f"{where}.groups.{key}.{value}")
    for name, metrics in (block.get("aggregates") if isinstance(block.get("aggregates"), dict) else {}).items():
        out += metric_map_problems(metrics, f"{where}.aggregates.{name}")
    return out


def scores_problems(scores: Any, where: str = "scores.json", complete: bool = False) -> list[str]:
    if not isinstance(scores, dict):
        return [f"{where}: expected a JSON object"]
    out = field_problems(scores, SCORES_FIELDS, where, complete)
    protocols = scores.get("protocols")
    if isinstance(protocols, dict):
        if complete and not protocols:
            out.append(f"{where}: 'protocols' is empty")
        for name, block in protocols.items():
            out += block_problems(block, f"{where} protocols.{name}", complete)
    return out


# --------------------------------------------------------------------------- prediction records


def plain_problems(value: Any, where: str, depth: int = 0) -> list[str]:
    """Why ``value`` is not plain JSON data (str, finite number, bool, null, lists, objects with string keys)."""
    if value is None or isinstance(value, (str, bool)) or is_int(value):
        return []
    if isinstance(value, float):
        return [] if math.isfinite(value) else [f"{where} is {value}, not a finite number"]
    if depth >= MAX_EXTRA_DEPTH:
        return [f"{where} nests deeper than {MAX_EXTRA_DEPTH} levels"]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in plain_problems(v, f"{where}[{i}]", depth + 1)][:1]
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return [f"{where} has a {type(key).__name__} key {key!r}; keys must be strings"]
            found = plain_problems(item, f"{where}.{key}", depth + 1)
            if found:
                return found
        return []
    return [f"{where} is a {type(value).__name__}, not plain JSON data (str, number, bool, null, list, object)"]


def _mask_problems(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    try:
        check_mask(value)
    except ValueError as exc:
        return [f"{where}: not a valid run-length mask ({exc})"]
    return []


def truth_problems(truth: Any, where: str, complete: bool = False) -> list[str]:
    if not isinstance(truth, dict):
        return [f"{where}: 'truth' must be an object with the sample's label, class, groups and reference"]
    out = []
    label = truth.get("label")
    if label not in (0, 1) or isinstance(label, bool):
        out.append(f"{where}: truth.label must be 0 (real) or 1 (fake), got {label!r}")
    cls = truth.get("cls")
    if cls is not None:
        if cls not in CLASS_NAMES:
            out.append(f"{where}: truth.cls {cls!r} is not one of {', '.join(TERNARY_CLASSES)}")
        elif label in (0, 1) and label_of_class(cls) != label:
            out.append(f"{where}: truth.cls {cls!r} disagrees with truth.label {label}")
    group = truth.get("group")
    if (complete or group is not None) and (
        not isinstance(group, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in group.items())
    ):
        out.append(f"{where}: truth.group must be an object of group key -> value (strings)")
    reference = truth.get("reference")
    if (complete or reference is not None) and (
        not isinstance(reference, dict) or not isinstance(reference.get("text"), (str, type(None)))
    ):
        out.append(f"{where}: truth.reference must be an object with a 'text' (string or null)")
    elif isinstance(reference, dict):
        if not isinstance(reference.get("texts", []), list) or not all(isinstance(t, str) for t in reference.get("texts") or []):
            out.append(f"{where}: truth.reference.texts must be a list of strings")
        if not isinstance(reference.get("parts", {}), dict):
            out.append(f"{where}: truth.reference.parts must be an object")
    for key in ("image", "question"):
        if not isinstance(truth.get(key), (str, type(None))):
            out.append(f"{where}: truth.{key} must be a string or null")
    return out + _mask_problems(truth.get("mask"), f"{where} truth.mask")


def record_problems(record: Any, where: str, complete: bool = False) -> list[str]:
    """Every way one prediction record breaks the contract (types, ranges, caps, its truth)."""
    if not isinstance(record, dict):
        return [f"{where}: expected a JSON object"]
    sid = record.get("sample_id")
    if not isinstance(sid, str) or not sid:
        return [f"{where}: 'sample_id' must be a non-empty string"]
    out = []
    label = record.get("label")
    if label is not None and (not is_int(label) or label not in (0, 1)):
        out.append(f"{where}: 'label' must be 0, 1 or null, got {_show(label)}")
    p_fake = record.get("p_fake")
    if p_fake is not None and (not is_number(p_fake) or not 0.0 <= p_fake <= 1.0):
        out.append(f"{where}: p_fake must be in [0, 1] or null, got {_show(p_fake)}")
    if not isinstance(record.get("parse_ok", True), bool):
        out.append(f"{where}: 'parse_ok' must be true or false")
    for key, (kind, cap) in _RECORD_TYPES.items():
        value = record.get(key)
        if value is None:
            continue
        if not _fits(value, kind):
            out.append(f"{where}: '{key}' has the wrong type ({type(value).__name__})")
        elif cap is not None and len(value) > cap:
            out.append(f"{where}: '{key}' is {len(value)} characters long, more than the {cap} kept")
        elif key in ("latency_s", "n_tokens") and value < 0:
            out.append(f"{where}: '{key}' must not be negative, got {value}")
    cls = record.get("cls")
    if isinstance(cls, str):
        if cls not in CLASS_NAMES:
            out.append(f"{where}: 'cls' {cls!r} is not one of {', '.join(CLASS_NAMES)}")
        elif label in (0, 1) and label_of_class(cls) != label:
            out.append(f"{where}: 'cls' {cls!r} disagrees with 'label' {label}")
    probs = record.get("class_probs")
    if isinstance(probs, dict):
        for name, prob in probs.items():
            if name not in CLASS_NAMES or not is_number(prob) or not 0.0 <= prob <= 1.0:
                out.append(f"{where}: class_probs must map class names ({', '.join(CLASS_NAMES)}) to probabilities in [0, 1]")
                break
    if isinstance(record.get("mask"), dict):
        out += _mask_problems(record["mask"], f"{where} mask")
    extra = record.get("extra")
    if extra is not None:
        out += extra_problems(extra, where)
    if complete or record.get("truth") is not None:  # scoring says so itself when a truth is missing
        out += truth_problems(record.get("truth"), where, complete)
    return out


def extra_problems(extra: Any, where: str) -> list[str]:
    if not isinstance(extra, dict):
        return [f"{where}: 'extra' must be an object, got {type(extra).__name__}"]
    found = plain_problems(extra, "'extra'")
    if found:
        return [f"{where}: {found[0]}"]
    size = len(json.dumps(extra, ensure_ascii=False, separators=(",", ":")))
    if size > MAX_EXTRA_CHARS:
        return [f"{where}: 'extra' is {size} characters as JSON, more than the {MAX_EXTRA_CHARS} kept"]
    return []
