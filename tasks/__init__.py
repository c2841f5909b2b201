"""Benchmarks, installed as ``fdrbench.tasks``: one package per benchmark family, and what they share.

Each family package (``mmfr``, ``fakeclue``, ``loki``, ``ddvqa``, ``sofake``, ``sidset``, ``demo``)
holds everything about its benchmark: the loader of the released files, the task classes, the
paper's protocol and parse rule, the prepare step, the official fingerprints and the builder of a
miniature copy of the release that the tests load. ``common`` holds what several families share.
"""
