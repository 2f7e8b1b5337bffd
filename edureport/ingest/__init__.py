"""Stage 1, ingest: find a county-year's ledgers, read them, clean them into tables.

``specs`` (the ledger kinds, declared as data), ``readers`` (xlsx, xls, csv into grids),
``ledgers`` (finding files, headers, data rows), ``normalize`` (one cell to one value),
``clean`` (tables, rows set aside with reasons, conservation), ``pseudonym``, ``csvsafe``.
"""
