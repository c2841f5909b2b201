"""fdrbench's localization metrics of tampered regions as an ``evaluate`` module.

``predictions`` and ``references`` are 2-D binary masks (lists of rows) of tampered images; a
prediction may be None (no mask predicted: empty). ``mask_size`` resizes both so the longest
side is that many pixels (None: the reference's size). Returns ``giou``, ``ciou``, ``pixel_f1``
and ``pixel_auc``.
"""

import datasets
import evaluate
import numpy

from fdrbench import score_arrays as api


class FdrbenchLocalization(evaluate.Metric):
    def _info(self):
        mask = datasets.Sequence(datasets.Sequence(datasets.Value("bool")))
        return evaluate.MetricInfo(
            description="Tampering localization: per-image and cumulative IoU, pixel F1 and pixel AUC.",
            citation="",
            inputs_description="predictions and references: 2-D boolean masks of the same image (predictions may be None).",
            features=datasets.Features({"predictions": mask, "references": mask}),
        )

    def _compute(self, predictions, references, mask_size=None, n_boot=0, seed=0):
        truth = [numpy.asarray(m, dtype=bool) for m in references]
        preds = [None if m is None else numpy.asarray(m, dtype=bool) for m in predictions]
        return api.localization_scores(truth, preds, mask_size=mask_size, n_boot=n_boot, seed=seed)
