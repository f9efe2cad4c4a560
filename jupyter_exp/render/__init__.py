"""Rendering engine records, one module per output family: ``text`` (plain text,
Markdown, CSV), ``json`` (DVC's ``--json`` shapes) and ``frame`` (pandas DataFrames).
Each reads records (experiment rows, diff rows, file values, queue entries) and
never reads a project itself."""
