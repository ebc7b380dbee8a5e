"""The ``updraft`` command line: thin click commands that import their work lazily."""
