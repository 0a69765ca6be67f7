"""The recordings library (Q1)."""
