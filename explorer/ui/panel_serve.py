"""`panel serve` with one server setting changed: long links get a page, not a dropped connection.

Tornado closes the connection, with no reply at all, when a request's first line and headers pass 64 KiB,
so a shared link with a long query string showed an empty page. Here Panel's own `serve` command runs
unchanged except that the limit is raised (through `customize_kwargs`, the hook Panel's Serve offers
subclasses); the priors app then reads at most `explorer.ui.url.MAX_QUERY_CHARS` of a query and says
when a link was longer. Run as `python -m explorer.ui.panel_serve [panel serve arguments]`.
"""

from __future__ import annotations

import argparse
import sys

from panel.command.serve import Serve

#: Longest request head accepted: Chromium's own limit on a URL is 2 MiB.
MAX_HEADER_BYTES = 4 * 1024 * 1024


class ExplorerServe(Serve):
    """Panel's serve command with a larger limit on a request's head."""

    def customize_kwargs(self, args, server_kwargs):
        kwargs = super().customize_kwargs(args, server_kwargs)
        http = dict(kwargs.get("http_server_kwargs") or {})
        http.setdefault("max_header_size", MAX_HEADER_BYTES)
        kwargs["http_server_kwargs"] = http
        return kwargs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explorer.ui.panel_serve",
                                     description="panel serve, with a request-head limit for long links")
    command = ExplorerServe(parser=parser)
    args = parser.parse_args(argv)
    return 0 if command.invoke(args) is not False else 1


if __name__ == "__main__":
    sys.exit(main())
