"""Plumbing shared by adapters of generative models.

``hf_*`` modules load and run any transformers image-text-to-text model; ``openai_client``
talks to any OpenAI-compatible server; ``verdict_site`` and ``answers`` turn a generated answer
and the model's scores into a verdict and its probability. Nothing here knows a particular
model: model-specific choices (prompt, parse rule, checkpoint) live in ``adapters/``.
"""
