"""The child process's side of :mod:`.child`: ``python -m cnnviz.jobs.worker [module ...]``.

It imports torch and the given modules (the job kinds' modules, so unpickling the job costs nothing), warms up
what a first step would pay for (at nice 10), says "imported", reads ONE pickled (job, device, threads) from
stdin, runs it at the job's CPU priority (:mod:`.priority`: nice 10, or SCHED_IDLE when asked) and pickles ("event" |
"checkpoint" | "failed", payload) messages to its stdout, then ("end", None). SIGUSR1 asks it to stop. A class
group's job is a list of configs (:func:`_run_group`). A separate module from :mod:`.child` so that running it
with ``-m`` does not execute a module the package has already imported."""
from __future__ import annotations

import importlib
import os
import pickle
import signal
import sys
import threading
import traceback

from cnnviz.errors import ConfigError
from cnnviz.jobs import priority
from cnnviz.jobs.kind import Member, run_group, run_job


def _warm_up(torch) -> None:
    """What a job's first step would otherwise pay for: the optimizers' first construction imports
    torch._dynamo (seconds), the first conv forward/backward initialises its kernels."""
    conv = torch.nn.Conv2d(1, 2, 3)
    for opt in (torch.optim.AdamW(conv.parameters()), torch.optim.SGD(conv.parameters(), lr=0.1, momentum=0.9)):
        conv(torch.zeros(2, 1, 8, 8)).sum().backward()
        opt.step()
        opt.zero_grad(set_to_none=True)


def _run_group(configs: list, device, send, stop: threading.Event) -> None:
    """A class group: member k's events go out as ("event", (k, e)), its checkpoints as ("checkpoint", (k, b)); a
    ("stop", k) read from stdin stops member k; SIGUSR1 or the parent closing stdin stops them all."""
    stops = [threading.Event() for _ in configs]

    def all_stop():
        for s in stops:
            s.set()

    signal.signal(signal.SIGUSR1, lambda *_: all_stop())
    if stop.is_set():
        all_stop()

    def listen():
        while True:
            try:
                what, k = pickle.load(sys.stdin.buffer)
            except Exception:  # noqa: BLE001 - EOF: the parent is gone or done; nobody watches these runs
                all_stop()
                return
            if what == "stop" and 0 <= k < len(stops):
                stops[k].set()

    threading.Thread(target=listen, name="cnnviz-group-stops", daemon=True).start()
    members = [Member(cfg, lambda e, k=k: send("event", (k, e)), stops[k], lambda b, k=k: send("checkpoint", (k, b)))
               for k, cfg in enumerate(configs)]
    run_group(members, device)


def main() -> None:
    out = os.fdopen(os.dup(1), "wb")  # the message stream; anything printed goes to stderr instead
    os.dup2(2, 1)
    priority.lower()  # nice 10 for the imports; the job's own policy once it comes
    stop = threading.Event()
    signal.signal(signal.SIGUSR1, lambda *_: stop.set())
    # The imports first: a spare does them while it waits for its job.
    import torch  # here, not at the top: the parent (the web process) never needs it for this module

    for module in sys.argv[1:]:  # the job kinds' modules
        importlib.import_module(module)
    _warm_up(torch)
    try:
        pickle.dump(("imported", None), out)
        out.flush()
        config, device, threads = pickle.load(sys.stdin.buffer)
    except (EOFError, BrokenPipeError):  # a spare whose parent closed its stdin (shutdown) or is gone: no job, nothing to say
        return

    def send(kind, payload):
        pickle.dump((kind, payload), out)
        out.flush()

    send("ready", priority.for_job(priority.job_sched()))  # the job's policy from now on (nice 10, or SCHED_IDLE), every thread
    torch.set_num_threads(threads)
    try:
        if isinstance(config, list):  # a class group: the members' configs
            _run_group(config, device, send, stop)
        else:
            run_job(config, lambda e: send("event", e), stop, lambda b: send("checkpoint", b), device)
    except ConfigError as e:
        send("failed", str(e))
    except Exception as e:  # noqa: BLE001 - reaches the page as a message
        send("failed", "training crashed: " + traceback.format_exception_only(type(e), e)[-1].strip())
    send("end", None)
    out.close()


if __name__ == "__main__":
    main()
    # Everything is sent and flushed: skip the interpreter's teardown, which with torch (and torch._dynamo, that
    # the optimizers import) loaded takes seconds on a busy machine and would delay a stopped job's end.
    sys.stderr.flush()
    os._exit(0)
