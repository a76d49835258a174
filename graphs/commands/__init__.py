"""CLI command groups, one module each (registered in graphs/cli.py)."""
