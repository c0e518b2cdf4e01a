"""Executable statements of the theory in docs/theory.md, one module per theorem (see dagtheory.checks)."""
