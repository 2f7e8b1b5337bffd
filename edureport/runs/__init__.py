"""Running it all: the steps the notebooks call (``steps``), the unattended run with its lock,
kernels, records and atomic publishing (``pipeline``), batches, reproduction, ``check`` and
``new`` (``scaffold``), and what a run records about the code (``provenance``)."""
