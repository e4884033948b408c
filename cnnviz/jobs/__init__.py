"""Jobs: everything that runs long work (a training, a distillation, an architecture search) anywhere, off the
page's rerun.

- :mod:`.kind` — what a job is: any object with ``run(emit, stop, keep, device)`` (each kind carries its own
  way to run, so nothing here knows a kind); :class:`SleepJob`, a stand-in for load tests.
- :mod:`.events` — the small picklable events a job reports, and a job's status.
- :mod:`.limiter` — the process-wide :class:`JobLimiter` (at most N at once, a first-come queue).
- :mod:`.runner` — :class:`ThreadRunner`: ``submit / poll / stop`` (+ ``status / checkpoint / join``).
- :mod:`.gather` — class groups: jobs of one ``group_key`` submitted within ``CNNVIZ_GATHER_S`` train together in
  one slot (their kind's ``run_together`` with a :class:`Member` each), each still a job of its own.
- :mod:`.slicing` — time-slicing: with child processes, a few jobs beyond the CPU slots take turns (SIGSTOP /
  SIGCONT every ``CNNVIZ_SLICE_S``), so every group shows progress early; :mod:`.turns` — the estimates with
  turns counted, and :func:`turns_text`, what a student taking turns is told.
- :mod:`.storage` — :class:`JobStore`, one directory per job (owner, events, last checkpoint) under ``CNNVIZ_STORAGE``:
  what every runner writes, so a restarted server or another replica finds a job; :mod:`.kept` — the thread
  runner's use of it (interrupted jobs, the storage's bounds).
- :mod:`.child` — one job in a lower-priority child process; :mod:`.spares` — spare children started ahead
  (one at a time, imports done); :mod:`.priority` — the child's CPU priority (``CNNVIZ_JOB_SCHED``: nice 10
  by default, SCHED_IDLE opt-in); :mod:`.worker` is the child's side.
- :mod:`.ids` — job ids (128 random bits) and owner tokens.
- :mod:`.cluster` — the optional Ray runner and its job manager (same interface, the same storage).
- :mod:`.factory` — :func:`get_runner` / :func:`get_local_runner`: which runner the app uses.

May import: cnnviz.errors. Every topic room that has long work imports this one, never the other way round."""
from cnnviz.jobs.events import STAGES, Checkpoint, Evaluation, Failed, Finished, JobStatus, Progress
from cnnviz.jobs.factory import get_local_runner, get_runner, started_local_runner
from cnnviz.jobs.ids import check_owner, is_job_id, new_job_id, new_owner
from cnnviz.jobs.kind import JobKind, Member, SleepJob, check_kind, group_key_of, run_group, run_job
from cnnviz.jobs.limiter import LIMITER, JobLimiter
from cnnviz.jobs.runner import ThreadRunner
from cnnviz.jobs.turns import turns_text
from cnnviz.jobs.storage import JobStore

__all__ = ["STAGES", "Checkpoint", "Evaluation", "Failed", "Finished", "JobStatus", "Progress", "get_local_runner",
           "get_runner", "started_local_runner", "check_owner", "is_job_id", "new_job_id", "new_owner", "JobKind", "SleepJob", "check_kind",
           "run_job", "Member", "group_key_of", "run_group", "LIMITER", "JobLimiter", "ThreadRunner", "JobStore",
           "turns_text"]
