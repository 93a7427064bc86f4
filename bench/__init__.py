"""Benchmarks: `make bench` runs them all, prints the figures and writes them to bench/results/."""
