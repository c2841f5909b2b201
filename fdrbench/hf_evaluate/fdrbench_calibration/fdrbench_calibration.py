"""fdrbench's calibration metrics of ``p_fake`` as an ``evaluate`` module that loads offline by path.

``predictions`` are fake probabilities, ``references`` true labels (fake = 1). Returns ``ece``
(equal-width, ``n_bins``), ``ece_em`` (equal-mass, ``em_bins``), ``mce``, ``brier``, ``nll``
(as 1 - exp(-log loss)) and, under ``details``, the reliability diagrams.
"""

import datasets
import evaluate

from fdrbench import score_arrays as api


class FdrbenchCalibration(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Calibration of fake probabilities: ECE (two binnings), MCE, Brier, NLL, reliability diagrams.",
            citation="",
            inputs_description="predictions: p_fake in [0, 1]; references: true labels (1 fake, 0 real).",
            features=datasets.Features({"predictions": datasets.Value("float64"), "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references, n_bins=15, em_bins=10, n_boot=0, seed=0):
        return api.calibration_scores(references, predictions, n_bins=n_bins, em_bins=em_bins, n_boot=n_boot, seed=seed)
