"""`trackplan diff`: model -> compare -> render, with base (materialize) and impact (exports)."""
