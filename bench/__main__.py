"""``python -m bench``: run the benchmarks, write bench/results.json and docs/performance.md."""

from bench.run import main

raise SystemExit(main())
