"""The Celery application both roles share: the web process publishes demo runs with it,
``backprop worker`` consumes them. Names of the Redis keys and queues live here too.
No torch, no database.

Why Celery (5.7) on Redis: it is the established choice, its threads pool lets one worker
process host the existing sandboxed LocalPool (zygote + warm, forked workers, so CUDA is
initialised once per forked worker and stays warm), and ``acks_late`` with
``reject_on_worker_lost`` keeps a message until its run is finished. Timeouts, memory
caps, output caps, recycling and hard kills stay the runner's (app/workers/pool.py), so
a run has the same limits on both paths. See docs/TEAM.md for the comparison with RQ,
Dramatiq and arq.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from celery import Celery

TASK_NAME = "backprop.run_demo"
HEARTBEAT_S = 3.0  # how often a worker re-registers and renews its runs' leases
WORKER_STALE_S = 3 * HEARTBEAT_S + 1  # a registration older than this is a dead worker


def queue_name(prefix: str, device: str) -> str:
    """One queue per device kind, so a run keyed for CUDA never lands on a CPU worker."""
    return f"{prefix}.demos.{device}"


def registry_key(prefix: str) -> str:
    return f"{prefix}:demo-workers"


def lease_key(prefix: str, run_id: str) -> str:
    return f"{prefix}:lease:{run_id}"


def public_url(url: str) -> str:
    """The queue URL without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def make_celery(settings: Any) -> Celery:
    app = Celery("backprop", broker=settings.demo_queue, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,  # results land in the database, not in Redis
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a busy worker leaves queued runs to idle ones
        task_default_queue=queue_name(settings.demo_queue_prefix, "cpu"),
        broker_connection_timeout=2,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            # A message a dead worker held comes back after this; the run was failed by
            # the sweeper long before, and claim_run makes the redelivery a no-op.
            "visibility_timeout": max(3600, int(settings.demo_queue_wait_s) + 600),
            "socket_connect_timeout": 2,
            "socket_timeout": 5,
        },
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_enable_remote_control=False,
    )
    return app
