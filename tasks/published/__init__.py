"""fdrbench's registry of published numbers: one TOML file per paper, read by ``fdrbench reproduce``.

The files are data, handed to the engine through the ``fdrbench.published`` entry-point group;
their format is documented in :mod:`fdrbench.reproduce.registry` and in docs/reproducing.md.
Each number is what the paper printed, with the run that should give it back (model and
weights, task version, split and options, protocol, metric and group or aggregate). Where the
paper leaves part of its protocol open, the entry's ``note`` says which reading was registered.
"""
