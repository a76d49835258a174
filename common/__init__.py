"""Helpers every layer may use and that import nothing from the project.

`common.errors` holds `UserError`, the one exception the CLI prints without a
traceback; `common.io` holds the atomic writes that keep stored data whole when
a run fails half-way.
"""
