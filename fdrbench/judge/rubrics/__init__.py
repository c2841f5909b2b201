"""Versioned judge rubrics, shipped as package data (``<name>.v<version>.json``)."""
