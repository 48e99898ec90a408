"""The tracking-plan doc site: view models decided in Python, rendered by the `docs` target.

`site.render_site(plan, health)` returns `{path: text}` relative to the site root; the `docs`
build target serves it without audit data, `trackplan docs --audit` with it.
"""
