"""Production server: `gunicorn -c gunicorn.conf.py app.main:app` (the seed's 4 uvicorn workers).

Every value can be overridden by gunicorn's own environment variable GUNICORN_CMD_ARGS.
"""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "uvicorn.workers.UvicornWorker"
# In-flight requests and streamed answers get this long to finish on shutdown or reload.
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "60"))
timeout = 120
keepalive = 5
# Trust X-Forwarded-* only from the load balancer in front (set FORWARDED_ALLOW_IPS).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"


def child_exit(server: object, worker: object) -> None:
    # Prometheus counts of a dead worker stay in the totals but its live gauges go.
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
