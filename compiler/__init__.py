"""trackplan: a tracking-plan compiler and contract validator for product analytics.

The pipeline is a chain of pure stages (see README "How it works"):

    load (YAML -> located nodes) -> shape (raw document check) -> resolve (Plan) -> render

Only the CLI touches the disk for output.
"""

__version__ = "0.1.0"
