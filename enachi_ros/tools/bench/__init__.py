"""Benchmarks behind ``enachi bench``."""
