"""Importers: other tools' tracking plans as a `PlanGuess` that `compiler.infer.write` writes."""
