"""Blind submissions: benchmarks whose labels stay with their organiser.

A participant runs a detector with ``fdrbench run --predict-only`` (:mod:`.predict`): the
detector sees each sample's image and question only, and the run writes ``submission.jsonl``
(one prediction per sample, no truth) with ``submission-manifest.json`` (its provenance, and
the public fingerprint of the samples it predicted). The organiser, who holds the labelled
copy, turns it into a normal run folder with ``fdrbench score-submission`` (:mod:`.score`),
after checking every line of it (:mod:`.submission`).
"""
