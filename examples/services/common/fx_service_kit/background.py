"""A periodic background job (the services' sweepers), stopped with the app."""

import logging
import threading
from typing import Callable

log = logging.getLogger(__name__)


class Periodic:
    """Runs `job()` every `interval` seconds on a daemon thread until `stop()`; a failing run is logged."""

    def __init__(self, name: str, interval: float, job: Callable[[], object]) -> None:
        self.name = name
        self.interval = interval
        self.job = job
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.job()
            except Exception as exc:  # noqa: BLE001 - the next run tries again
                log.warning("background job failed", extra={"job": self.name, "error": repr(exc)[:300]})

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
