"""Stage 3, report: figures from the tables, the narrative filled and audited, the report
(``document``), its charts, its Word file, and the HTML pages (``pages``, ``site``, ``display``)."""
