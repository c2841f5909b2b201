"""FakeReasoning (Gao et al., arXiv 2503.21210v3): dual CLIP + DINOv2 encoders fused by FAFF, a LLaVA-1.5
language model, and the Classification Probability Mapper (CPM).

Modules, one job each: :mod:`.config` (sizes and settings), :mod:`.faff` (the fusion block),
:mod:`.encoders` (the two frozen vision towers), :mod:`.modeling` (the whole model), :mod:`.weights`
(the key mapping from the released checkpoint layout), :mod:`.checkpoint_files` (reading and writing
tensor files), :mod:`.processing` (image preprocessing), :mod:`.conversation` (prompt templates and
tokenisation), :mod:`.cpm`, :mod:`.facl` (v1's contrastive loss, reconstructed), :mod:`.data`,
:mod:`.train`, :mod:`.merge`, :mod:`.detector` (the ``fakereasoning`` adapter) and :mod:`.tiny` (a tiny
configuration and tokenizer built in code, for CPU tests).
"""
