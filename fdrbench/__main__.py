"""``python -m fdrbench`` runs the command line."""

from fdrbench.cli import main

main()
