"""The thread runner's upkeep, in the background of a class: who is still there (``seen``), stopping abandoned
jobs and forgetting old ones (``tidy``), looking the job storage over (``sweep``), and the heartbeat that tells
other processes this one's jobs are alive. A mixin of :class:`cnnviz.jobs.runner.ThreadRunner`, which holds the
state it works on (``_jobs``, ``_seen``, ``_lock``, ``kept``, ``limiter``, ``clock`` and the fairness limits)."""
from __future__ import annotations

import threading
import time

from cnnviz.jobs.kept import HEARTBEAT_S

QUEUED, RUNNING, DONE = "queued", "running", "done"  # a job's states


class Upkeep:
    def seen(self, owner: str) -> None:
        """A page of ``owner``'s ran (every page run and every live job panel's poll call this): their jobs are not
        abandoned. Also tidies, so an abandoned job frees its slot while its classmates browse, not only at the
        next Start."""
        with self._lock:  # tidy iterates over the owners
            self._seen[owner] = self.clock()
        self.tidy()

    def recipe(self, job_id: str, owner: str | None = None) -> dict:
        """The plain values of the job's recipe (a search's budget and trials, a distillation's epochs), for its
        ``owner``: what a page reconnecting to the job draws it with."""
        job = self._owned(job_id, owner)
        return dict(job.fields) if job is not None else self.kept.fields(job_id)

    def tidy(self) -> None:
        """Stop the jobs of owners unseen for ``abandon_s`` (a closed tab's job trains for nobody, and holds a
        slot); forget jobs finished more than ``forget_s`` ago (their curve and checkpoint)."""
        now = self.clock()
        with self._lock:
            for jid, job in list(self._jobs.items()):
                if job.state == DONE:
                    if job.ended_at is not None and now - job.ended_at > self.forget_s:
                        del self._jobs[jid]
                        if self.kept is not None:
                            self.kept.forget(jid)
                elif job.owner is not None and now - self._seen.get(job.owner, now) > self.abandon_s \
                        and not job.stop.is_set():
                    self._stop(job)
            live = {j.owner for j in self._jobs.values()}
            for owner in [o for o in self._seen if o not in live and now - self._seen[o] > self.abandon_s]:
                del self._seen[owner]
        self._sweep_soon()

    def sweep(self) -> None:
        """Look the storage over now (``kept.Keeper.sweep``: its bounds, and which owner has which job on disk);
        the jobs it deleted are forgotten here too. :meth:`tidy` has it done in the background now and then."""
        if self.kept is None:
            return
        with self._lock:
            ended = {jid: j.state == DONE for jid, j in self._jobs.items()}
        for jid in self.kept.io(lambda: self.kept.sweep(ended, self.forget_s), []):
            with self._lock:
                self._jobs.pop(jid, None)

    def _sweep_soon(self) -> None:
        """A sweep in a background thread when one is due (a thousand jobs take a second: never a page's run)."""
        with self._lock:
            if self.kept is None or self._sweeping or not self.kept.due():
                return
            self._sweeping = True

        def run():
            try:
                self.sweep()
            finally:
                self._sweeping = False
        threading.Thread(target=run, name="cnnviz-jobs-sweep", daemon=True).start()

    def _beat(self) -> None:
        """While this runner holds a queued or running job, a thread touches its heartbeat file (other processes
        then read its jobs as running, not interrupted) and looks for stop flags set by another replica."""
        with self._lock:
            if self._beating is not None:
                return
            self._beating = threading.Thread(target=self._heart, name="cnnviz-jobs-heartbeat", daemon=True)
        self._beating.start()

    def _heart(self) -> None:
        while True:
            with self._lock:
                live = [j for j in self._jobs.values() if j.state != DONE]
                if not live:
                    self._beating = None
                    return
            self.kept.beat()
            for job in live:
                if not job.stop.is_set() and self.kept.stop_requested(job.id):
                    self._stop(job)
            time.sleep(HEARTBEAT_S)
