"""fdrbench's three-way metrics (real / full_synthetic / tampered) as an ``evaluate`` module.

``predictions`` and ``references`` are class names (a prediction may be None: unparsed). Returns
per-class recall and F1, ``macro_f1``, ``macro_recall``, ``ternary_accuracy`` and, under
``details.macro_f1``, the confusion matrix.
"""

import datasets
import evaluate

from fdrbench import score_arrays as api


class FdrbenchTernary(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Three-way forgery classification: per-class recall and F1, macro F1, confusion matrix.",
            citation="",
            inputs_description="predictions and references: 'real', 'full_synthetic' or 'tampered' (predictions may be None).",
            features=datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
        )

    def _compute(self, predictions, references, n_boot=0, seed=0):
        return api.ternary_scores(references, predictions, n_boot=n_boot, seed=seed)
