"""``RayRunner``: the thread runner's interface (``submit / poll / stop`` plus ``status / checkpoint / join``)
with the jobs on a Ray cluster.

``submit`` writes the job's recipe to the shared storage and asks the cluster's job manager (a detached, named
actor) for admission; it answers within :data:`ANSWER_S` seconds in every case — started, queued with a
position, "busy, try again", or "the cluster does not answer". ``poll`` reads the shared storage directly, so any
replica can follow any job from its id, even one submitted by a replica that has since died. ``stop`` and
``checkpoint`` answer only the job's owner (kept in its ``config.json``).

Class groups: with ``groups`` (the default), a job whose kind has a class-group key (``kind.group_key_of``, on
the cluster's device kind) is submitted with that key, and the manager gathers compatible jobs submitted within
``gather_s`` seconds into one Ray task (:mod:`.job_manager`); ``status`` says how many classmates a job has."""
from __future__ import annotations

import os
import shutil
import time

from cnnviz.errors import ConfigError
from cnnviz.jobs.cluster.job_manager import DONE, MANAGER_NAME, NAMESPACE, get_manager
from cnnviz.jobs.storage import JobStore
from cnnviz.jobs.events import JobStatus
from cnnviz.jobs.gather import GATHER_S
from cnnviz.jobs.ids import check_owner, new_job_id
from cnnviz.jobs.kind import check_kind, group_key_of

ANSWER_S = 1.0     # submit: the answer (admitted, queued, or busy) within this many seconds
CALL_S = 15.0      # status / stop / stats: a loaded cluster may take longer, nothing waits on them
STARTUP_S = 120.0
DEFAULT_MAX_QUEUE = 500


class RayRunner:
    def __init__(self, address: str | None = None, root=None, max_running: int | None = None,
                 max_queue: int | None = None, options: dict | None = None,
                 name: str = MANAGER_NAME, max_retries: int = 3, answer_s: float = ANSWER_S,
                 groups: bool = True, gather_s: float | None = None):
        import ray
        self.answer_s = answer_s
        if not ray.is_initialized():
            ray.init(address=address or os.environ.get("CNNVIZ_RAY_ADDRESS") or "auto", namespace=NAMESPACE,
                     log_to_driver=False, configure_logging=False)
        self.store = JobStore(root)
        self.options, self.name = dict(options or {}), name
        if max_running is None:
            env = os.environ.get("CNNVIZ_RAY_MAX_RUNNING", "").strip()
            res = ray.cluster_resources()
            max_running = int(env) if env else int(res.get("GPU", 0)) or max(1, int(res.get("CPU", 2)) // 2)
        if max_queue is None:
            max_queue = int(os.environ.get("CNNVIZ_RAY_MAX_QUEUE", DEFAULT_MAX_QUEUE))
        self.manager = get_manager(str(self.store.root), max_running, max_queue, name=name, max_retries=max_retries,
                                   gather_s=GATHER_S if gather_s is None else gather_s)  # this replica's setting
        self._ask(self.manager.ping.remote(), timeout=STARTUP_S)  # the first replica waits for the actor to start
        self.groups = groups
        # the class-group key is computed here (the manager never imports torch), for the workers' device kind
        self.device = "cuda" if groups and self._ask(self.manager.stats.remote(), CALL_S)["use_gpu"] else "cpu"

    # ------------------------------------------------------------------ the interface
    def submit(self, config, owner: str | None = None) -> str:
        """``config``: a job kind (``cnnviz.jobs.kind``), e.g. a TrainConfig. Answers within about ``answer_s``
        seconds: the job id (started or queued), or ConfigError "busy, try again". Kinds that say
        ``cluster = False`` (distillations and searches: small, seconds to a minute) are refused: they run on the
        web process's own runner (``cnnviz.jobs.get_local_runner``)."""
        check_kind(config)
        if getattr(config, "cluster", True) is False:
            raise ConfigError("job", f"the Ray cluster does not run a {type(config).__name__}; "
                              "it runs on this server's own runner")
        key = group_key_of(config, self.device) if self.groups else None  # None: it trains alone
        t0 = time.monotonic()
        job_id = new_job_id()
        self.store.create(job_id, config, owner=owner)
        ref = self.manager.submit.remote(job_id, owner, self.options, None if key is None else repr(key))
        try:
            answer = self._ask(ref, max(0.05, self.answer_s - (time.monotonic() - t0)), budget=self.answer_s)
        except ConfigError:
            # No answer in time. The call may still arrive later: the stop flag (and a stop right behind it)
            # make such a job end at once as "stopped", so nothing runs that nobody follows.
            self.store.request_stop(job_id)
            self.manager.stop.remote(job_id)
            raise
        if "error" in answer:
            shutil.rmtree(self.store.dir(job_id), ignore_errors=True)
            if answer["error"] == "owner":
                raise ConfigError("job", "this browser already has a training on the cluster (started here or in "
                                  "another tab); stop it before starting another")
            raise ConfigError("job", f"busy, try again in a minute: {answer['running']} jobs are training and "
                              f"{answer['queued']} are waiting, the most the cluster takes")
        return job_id

    def poll(self, job_id: str, since: int = 0) -> list:
        return self.store.events(job_id, since)

    def stop(self, job_id: str, owner: str | None = None) -> None:
        self.check_owner(job_id, owner)
        self.store.request_stop(job_id)  # the worker (or a queued job when it starts) sees the flag in any case
        try:
            self._ask(self.manager.stop.remote(job_id), CALL_S)  # a queued job leaves the queue at once
        except ConfigError:
            pass  # a slow manager: the flag alone stops the job at its next step

    # ------------------------------------------------------------------ extras (same as ThreadRunner)
    def status(self, job_id: str):
        if not self.store.exists(job_id):
            raise ConfigError("job", "no such training job in the shared storage")
        st = self._ask(self.manager.status.remote(job_id), CALL_S)
        state = st["state"]
        if state is None or self.store.is_done(job_id):  # unknown to this manager (restarted) or finished
            state = DONE if self.store.is_done(job_id) else "running"
        return JobStatus(state, st["position"], st["running"], st["capacity"],
                         st["classmates"] if state != DONE else 0, st["wait_s"] if state == "queued" else None)

    def checkpoint(self, job_id: str, owner: str | None = None) -> bytes | None:
        self.check_owner(job_id, owner)
        return self.store.checkpoint(job_id)

    def check_owner(self, job_id: str, owner: str | None) -> None:
        """ConfigError("job") when the job is unknown or ``owner`` is not its owner."""
        if not self.store.exists(job_id):
            raise ConfigError("job", "no such training job in the shared storage")
        check_owner(self.store.owner(job_id), owner)

    def join(self, job_id: str, timeout: float | None = None) -> bool:
        """Wait until the job has written its last event (Finished or Failed); True when it has."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.store.is_done(job_id):
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def seen(self, owner: str) -> None:
        """The thread runner stops an absent owner's job; on the cluster a job runs to its end (or its Stop):
        the shared storage keeps its curve and checkpoint for any replica."""

    def jobs_of(self, owner: str) -> list[tuple[str, str, str]]:
        """Reconnection on the cluster goes by the job id in the page's link (any replica reads the storage)."""
        return []

    def stats(self) -> dict:
        return self._ask(self.manager.stats.remote(), CALL_S)

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _ask(ref, timeout: float = ANSWER_S, budget: float | None = None):
        import ray
        try:
            return ray.get(ref, timeout=timeout)
        except ray.exceptions.GetTimeoutError:
            raise ConfigError("job", "busy, try again: the training cluster did not answer within "
                              f"{budget or timeout:g} s") from None
        except ray.exceptions.RayActorError as e:
            raise ConfigError("job", f"the training cluster's job manager is unavailable ({type(e).__name__})") \
                from None
