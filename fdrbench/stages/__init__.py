"""The stages of one evaluation after :mod:`fdrbench.resolve`: infer, score, finish.

:mod:`fdrbench.pipeline` runs them in order for ``fdrbench run``; ``fdrbench score`` runs
score and finish alone on a stored run.
"""
