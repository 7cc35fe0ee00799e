"""Training stories: the file format, validation, evidence from simulations, sensitivity sweeps, exports.

A story (`NAME.story.md`) is Markdown with YAML front matter. The front matter holds the structured
argument (four components of claims, the goal and rationale classes, four rated criteria, assumptions,
evidence, sweeps); the Markdown body is free narrative kept verbatim. Nothing here imports a UI library.
"""
