"""fdrbench's binary detection metrics (fake = 1) as an ``evaluate`` module that loads offline by path.

    >>> import evaluate
    >>> from fdrbench.hf_evaluate import evaluate_module_path
    >>> metric = evaluate.load(evaluate_module_path("detection"))
    >>> metric.compute(predictions=[1, 0, 0, 0], references=[1, 0, 1, 0], p_fake=[0.9, 0.2, 0.4, 0.1])["accuracy"]
    0.75

``predictions`` are verdicts (None for an unparsed output, counted wrong); ``p_fake`` (optional)
gives AP, ROC-AUC, EER and TPR at 1% / 5% FPR; ``positive`` ("fake" or "real") is F1's class.
"""

import datasets
import evaluate

from fdrbench import score_arrays as api


class FdrbenchDetection(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Binary detection metrics of fdrbench: accuracy, per-class accuracy, precision, recall, F1, AP, ROC-AUC, EER, TPR at fixed FPR.",
            citation="",
            inputs_description="predictions: verdicts (1 fake, 0 real, None unparsed); references: true labels; p_fake: optional probabilities.",
            features=datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references, p_fake=None, positive="fake", n_boot=0, seed=0):
        return api.detection_scores(references, predictions, p_fake=p_fake, positive=positive, n_boot=n_boot, seed=seed)
