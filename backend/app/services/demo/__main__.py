"""`python -m app.services.demo`: run the demo upstream on its own (the benchmark's upstream)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from app.services.demo.upstream import DemoUpstream


def main() -> None:
    parser = argparse.ArgumentParser(description="A fast OpenAI-format chat server on 127.0.0.1.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--reply", default=None, help="a fixed answer (default: echo)")
    args = parser.parse_args()

    async def run() -> None:
        upstream = await DemoUpstream(reply=args.reply, chunks=args.chunks).start(
            args.host, args.port
        )
        print(f"listening on {upstream.url}", flush=True)
        await upstream.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":
    main()
