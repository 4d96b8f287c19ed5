"""Prometheus metrics of the scoring API.

Each app gets its own :class:`~prometheus_client.CollectorRegistry`, so several apps in one
process (tests) never collide on metric names. With several uvicorn workers every process
counts its own requests; set ``PROMETHEUS_MULTIPROC_DIR`` (``farmscore serve --workers N``
does it for you) and /metrics aggregates all workers through prometheus_client's
multiprocess mode.

The HTTP metrics are taken by a pure ASGI middleware placed outermost, so requests refused
before they reach a route (413 body limit, 415, 404) are counted too. Routes are labelled
by their template (``/v1/score``), unknown paths as ``other``, to keep label cardinality
bounded whatever crawlers send.
"""

from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge,
                               Histogram, generate_latest)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                   2.5, 5.0, 10.0, 30.0, 60.0)
SCORE_BUCKETS = tuple(round(0.1 * i, 1) for i in range(1, 11))
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000)


def multiprocess_dir() -> str | None:
    """The prometheus_client multiprocess directory, when that mode is on."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir")


class Metrics:
    """The metric objects of one app, and their text exposition."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("farmscore_http_requests_total", "HTTP requests by route, method and status",
                                ["route", "method", "status"], registry=r)
        self.latency = Histogram("farmscore_http_request_duration_seconds",
                                 "Time from request start to the end of the response",
                                 ["route", "method"], buckets=LATENCY_BUCKETS, registry=r)
        self.scoring = Histogram("farmscore_scoring_duration_seconds",
                                 "Time a scoring job spends in the pool (one page or one batch)",
                                 ["kind"], buckets=LATENCY_BUCKETS, registry=r)
        self.pages = Counter("farmscore_pages_total", "Pages scored, by verdict or refusal code",
                             ["outcome"], registry=r)
        self.originality = Histogram("farmscore_originality_score", "Originality of scored pages",
                                     buckets=SCORE_BUCKETS, registry=r)
        self.quality = Histogram("farmscore_quality_score", "Quality of scored pages",
                                 buckets=SCORE_BUCKETS, registry=r)
        self.batch_size = Histogram("farmscore_batch_size", "Pages per batch request",
                                    buckets=BATCH_BUCKETS, registry=r)
        self.rejected = Counter("farmscore_rejected_total",
                                "Requests refused before scoring, by reason (overload, timeout, ...)",
                                ["reason"], registry=r)
        mode = {"multiprocess_mode": "livesum"} if multiprocess_dir() else {}
        self.inflight = Gauge("farmscore_scoring_inflight", "Scoring jobs running now",
                              registry=r, **mode)
        self.queued = Gauge("farmscore_scoring_queued", "Requests waiting for a scoring slot",
                            registry=r, **mode)
        info_mode = {"multiprocess_mode": "max"} if multiprocess_dir() else {}
        self.model_info = Gauge("farmscore_model_info", "The model serving scores (value is always 1)",
                                ["name", "version", "kind", "feature_schema_hash"],
                                registry=r, **info_mode)

    def set_model(self, info: dict[str, Any]) -> None:
        """Publish which model and feature schema this process serves."""
        self.model_info.labels(str(info.get("name", "")), str(info.get("version", "")),
                               str(info.get("kind", "")), str(info.get("feature_schema_hash", ""))).set(1)

    def observe_record(self, rec: dict) -> None:
        """Count one page's outcome and its scores."""
        err = rec.get("error")
        if err is not None:
            self.pages.labels(f"error:{err.get('code', 'unknown')}").inc()
            return
        self.pages.labels(str(rec.get("verdict"))).inc()
        self.originality.observe(rec["originality"])
        self.quality.observe(rec["quality"])

    def exposition(self) -> tuple[bytes, str]:
        """The text format body and its content type."""
        mp = multiprocess_dir()
        if mp:
            from prometheus_client import multiprocess

            reg = CollectorRegistry()
            multiprocess.MultiProcessCollector(reg, path=mp)
            return generate_latest(reg), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Pure ASGI middleware: request count and latency by route template and status."""

    def __init__(self, app, metrics: Metrics, known_paths=None) -> None:
        self.app = app
        self.metrics = metrics
        # Requests refused before routing (413 on Content-Length) carry no route; label
        # them by their path when it is one of the app's, else "other".
        self._known_paths = known_paths
        self._known: set | None = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 500  # what the server sends if the app dies before starting a response

        async def send_wrapper(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or self._fallback(scope.get("path", ""))
            method = scope.get("method", "")
            self.metrics.requests.labels(path, method, str(status)).inc()
            self.metrics.latency.labels(path, method).observe(time.perf_counter() - t0)

    def _fallback(self, path: str) -> str:
        if self._known is None and self._known_paths is not None:
            self._known = set(self._known_paths())
        return path if self._known and path in self._known else "other"
