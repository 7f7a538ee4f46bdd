"""Use cases: each module is one part of the product, called by the thin edges."""
