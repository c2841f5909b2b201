"""Files fdrbench writes for its users (read with ``importlib.resources``)."""
