"""Detector adapters, installed as ``fdrbench.adapters``: one module or folder per detector family."""
