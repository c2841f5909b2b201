"""SIDA (CVPR 2025): real / full synthetic / tampered, a tampered-region mask, and an explanation.

Modules: ``config`` (sizes), ``modeling`` (the modules on transformers parts), ``weights``
(released checkpoint names -> module names), ``loader`` (checkpoint folder -> model),
``processing`` (CLIP and SAM image inputs), ``prompts`` (questions, template, tokenization),
``decision`` (class and mask prompts from hidden states), ``masks`` (mask post-processing),
``text`` (reading generated text) and ``adapter`` (the ``sida`` / ``sida_description`` detectors).
"""
