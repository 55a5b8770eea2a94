"""``python -m mbcpath.web [--host H] [--port P]``: serve the app with uvicorn."""

from __future__ import annotations

import argparse
import sys

from mbcpath.errors import MbcpathError
from mbcpath.web.app import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mbcpath.web", description=__doc__)
    parser.add_argument("--host", default=None, help="interface (default 127.0.0.1 or MBCPATH_WEB_HOST)")
    parser.add_argument("--port", type=int, default=None, help="port (default 8000 or MBCPATH_WEB_PORT)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default 1)")
    parser.add_argument("--access-log", action="store_true", default=None,
                        help="log method, path, status, duration and caller of each request (never bodies)")
    parser.add_argument("--allow-unauthenticated", action="store_true", default=None,
                        help="serve a non-loopback address without API keys (only behind an authenticating proxy)")
    args = parser.parse_args(argv)
    extra: dict[str, object] = {"access_log": True} if args.access_log else {}
    if args.workers:
        extra["workers"] = args.workers
    if args.allow_unauthenticated:
        extra["allow_unauthenticated"] = True
    try:
        serve(host=args.host, port=args.port, **extra)
    except MbcpathError as err:
        sys.stderr.write(f"mbcpath: not starting: {' '.join(str(err).split())[:4000]}\n")
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
