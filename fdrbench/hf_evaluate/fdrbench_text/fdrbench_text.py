"""fdrbench's explanation-quality metrics as an ``evaluate`` module that loads offline by path.

``predictions`` are explanations, ``references`` one reference text or a list of them per
sample. ``metrics`` picks from bleu1..bleu4, rouge_l, css, bertscore_f1, meteor, cider; other
keyword arguments are the text settings (``bleu_tokenizer``, ``bleu_smoothing``,
``text_lowercase``, ``rouge_stemmer``, ``css_encoder``, ``css_model``, ...). A metric that cannot
be computed here (e.g. METEOR without WordNet) is None, with the reason under ``details``.
"""

import datasets
import evaluate

from fdrbench import score_arrays as api


class FdrbenchText(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Explanation quality: BLEU-1..4, ROUGE-L, CSS, BERTScore-F1, METEOR, CIDEr-D.",
            citation="",
            inputs_description="predictions: explanation strings; references: a string or a list of strings per sample.",
            features=[
                datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Sequence(datasets.Value("string"))}),
                datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
            ],
        )

    def _compute(self, predictions, references, metrics=api.TEXT, n_boot=0, seed=0, **options):
        return api.text_scores(predictions, references, metrics=metrics, n_boot=n_boot, seed=seed, **options)
