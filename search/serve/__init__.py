"""`zhsearch serve`: the index as a search page, and the CLI's JSON over HTTP.

A thin layer over the `Index` API, as the CLI is: `params.py` reads a request's arguments,
`views.py` computes what a page or an API answer holds (one function per page, rendered as
HTML by `app.py`'s templates or as the CLI's JSON), `indexes.py` lends each request an
`Index` of its own, `timeline.py` lays out the SVG chart, `markup.py` escapes and highlights,
and `server.py` runs the Flask app under waitress.
"""

from .app import create_app

__all__ = ["create_app"]
