"""``fdrbench reproduce``: published numbers, checked against a run by one command.

- :mod:`.registry` reads the registry of published numbers (TOML files handed to the engine
  through the ``fdrbench.published`` entry-point group; the format is documented there);
- :mod:`.verdict` is the rule: reproduced, deviates or not comparable;
- :mod:`.match` says why a run cannot be compared with a target (task version, split, subset,
  options, model, settings);
- :mod:`.check` measures a target's entries on a stored run, finds a matching run, or makes one
  through the normal run pipeline;
- :mod:`.report` prints the result as a table or JSON.
"""
