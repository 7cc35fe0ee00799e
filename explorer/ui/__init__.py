"""Panel views over the core objects; the only package that imports panel, holoviews or bokeh."""
