"""Following a project live: a daemon thread that polls file stats (no git process)
and updates a table when something changed, within a small share of a core (on
average over a minute).

An update reads only what moves while experiments run (``TableController.refresh_live``:
the refs that changed, the queue, progress, the workspace row), so with 10,000
experiments a checkpoint reaches the table within about a second. Now and then, while
changes keep coming, the table is collected again in full instead: a safety net for
what an update does not read again (a row whose error a pull mended)."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import TYPE_CHECKING

from ..experiments import live_state
from ..experiments import show as show_table
from ..experiments.show_stamp import file_stats

if TYPE_CHECKING:
    from .controller import TableController

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5  # how often the watcher looks at file stats (no git process)
MIN_REFRESH_SECONDS = 1.0  # at most one update a second while things change
CPU_SHARE = 0.03  # and no more often than keeps updating under 3% of a core, on average
BURST_SECONDS = 60.0  # over a minute: an update may spend what a quiet minute saved
FULL_SECONDS = 30.0  # a full collection at most this often while changes keep coming
FULL_SHARE = 0.1  # and within this part of the watcher's share


def _full_due(collected_in_full: tuple[float, float], share: float) -> float:
    """When the next full collection may run: FULL_SECONDS after the last one ended, and
    no sooner than keeps full collections within FULL_SHARE of the watcher's share at
    what the last one cost (10,000 experiments: every few minutes, not every 30 s)."""
    ended, cost = collected_in_full
    return ended + max(FULL_SECONDS, cost / (share * FULL_SHARE))


class Watcher:
    """Polls the project's change stamp; on a change, updates the table.

    It holds the table weakly: a table that is dropped or whose host closed it ends
    the thread. The update runs on this thread, so a host's ``on_change`` callback
    must be safe to call from it (the notebook widget's trait updates go straight out
    over IOPub, which is thread-safe in ipykernel 6 and 7.0.1+): a foreground
    ``%exp run`` blocks the kernel's loop, and the table must move while it runs.
    """

    def __init__(self, table: TableController) -> None:
        self._table = weakref.ref(table)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="jupyter-exp-table", daemon=True)
        self._project = table.project
        self._files = show_table.workspace_files(self._project)
        self._files_seen = file_stats(self._files)
        self._last = live_state.change_stamp(self._project, self._files)
        self.refreshes = 0  # updates made (live or full)
        self.full_refreshes = 0
        self.cpu_share = CPU_SHARE  # a host may ask for less (a server watching for many users)
        self.burst_seconds = BURST_SECONDS  # and a shorter burst (its budget holds over less time)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        # A budget of CPU seconds that fills at ``cpu_share`` of the time passing, up to
        # ``burst_seconds``' worth: the thread's every CPU second is paid from it (the
        # stamps polled while nothing changes too), and an update waits while it is
        # spent. A costly update now and then (a new column redraws every row) is paid
        # from what quiet moments saved instead of stopping the updates for a minute.
        credit, then = self.cpu_share * self.burst_seconds, time.monotonic()
        next_allowed = 0.0
        spent = time.thread_time()
        while not self._stop.wait(POLL_SECONDS):
            table = self._table()
            if table is None or table.closed:
                return
            try:
                now = time.monotonic()
                used, spent = time.thread_time() - spent, time.thread_time()
                credit = min(self.cpu_share * self.burst_seconds, credit + (now - then) * self.cpu_share - used)
                then = now
                if now < next_allowed or credit < 0:
                    continue
                stamp = live_state.change_stamp(self._project, self._files)
                if stamp == self._last:
                    continue
                self._last = stamp
                # A full collection (the safety net) spaced from the last one, whoever made it.
                full = now >= _full_due(table.collected_in_full, self.cpu_share)
                table.refresh() if full else table.refresh_live()
                if file_stats(self._files) != self._files_seen:  # a workspace file moved
                    self._files = show_table.workspace_files(self._project)
                    self._files_seen = file_stats(self._files)
                self.refreshes += 1
                next_allowed = now + MIN_REFRESH_SECONDS
                if full:
                    self.full_refreshes += 1
            except Exception as exc:  # noqa: BLE001 - a broken refresh must not kill the thread
                log.exception("experiment table: live refresh failed")
                table.say(f"Live refresh failed: {exc}", "error")
            finally:
                del table  # hold it only while refreshing
