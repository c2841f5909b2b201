"""LLM-as-judge scoring of explanations: rubrics, judge calls, and the judgements of a run.

``fdrbench judge RUN_DIR --judge-model M`` grades each stored explanation with a versioned
rubric (``rubrics/``), appends one line per sample to ``RUN_DIR/judgements.jsonl`` (resumable
like predictions), records the judge, rubric hash, settings and cost ledger in the manifest, and
re-scores the run so that ``scores.json`` carries ``judge_score``. Importing this package is
cheap; the API client is imported only when judging.
"""
