"""The ``datadiet`` command line."""
