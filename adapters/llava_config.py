"""The language-model part of a LLaVA ``config.json``, shared by the LLaVA-based adapters.

A released LLaVA (or LISA) checkpoint keeps the LLaMA settings at the top level of its config
beside LLaVA's own ``mm_*`` keys; these are the keys ``LlamaConfig`` takes from there.
"""

from __future__ import annotations

from typing import Any

LLAMA_FIELDS = (
    "vocab_size",
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "hidden_act",
    "max_position_embeddings",
    "rms_norm_eps",
    "rope_theta",
    "rope_scaling",
    "rope_parameters",
    "attention_bias",
    "attention_dropout",
    "mlp_bias",
    "tie_word_embeddings",
    "initializer_range",
    "bos_token_id",
    "eos_token_id",
    "pad_token_id",
)


def llama_fields(config: dict[str, Any]) -> dict[str, Any]:
    """The LlamaConfig keyword arguments a LLaVA config sets (null values left to the defaults)."""
    return {k: config[k] for k in LLAMA_FIELDS if config.get(k) is not None}
