"""``python -m mbcpath.web [--host H] [--port P]``: serve the app with uvicorn."""

from __future__ import annotations

import argparse

from mbcpath.web.app import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mbcpath.web", description=__doc__)
    parser.add_argument("--host", default=None, help="interface (default 127.0.0.1 or MBCPATH_WEB_HOST)")
    parser.add_argument("--port", type=int, default=None, help="port (default 8000 or MBCPATH_WEB_PORT)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default 1)")
    parser.add_argument("--access-log", action="store_true", default=None,
                        help="log method, path and status of each request (never bodies)")
    args = parser.parse_args(argv)
    extra: dict[str, object] = {"access_log": True} if args.access_log else {}
    if args.workers:
        extra["workers"] = args.workers
    serve(host=args.host, port=args.port, **extra)


if __name__ == "__main__":
    main()
