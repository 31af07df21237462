"""`make bench`: promote's events/s, storage requests per event, cold import and memory, against the floor.

Run it with `.venv/bin/python bench/run.py` (or `make bench`); `--help` lists the knobs. The method and the
latest figures are in docs/performance.md.
"""
