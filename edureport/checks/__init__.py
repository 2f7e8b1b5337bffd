"""Stage 2, checks: the county-year's parameters (``policy``) and the Great Expectations suites
run on the cleaned tables and the derived frames (``validate``)."""
