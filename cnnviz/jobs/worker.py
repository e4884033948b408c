"""The child process's side of :mod:`.child`: ``python -m cnnviz.jobs.worker [module ...]``.

It imports torch and the given modules (the job kinds' modules, so unpickling the job costs nothing), warms up
what a first step would pay for, says "imported", reads ONE pickled (job, device, threads) from stdin, runs it
at a lower CPU priority and pickles ("event" | "checkpoint" | "failed", payload) messages to its stdout, then
("end", None). SIGUSR1 asks it to stop. A separate module from :mod:`.child` so that running it with ``-m``
does not execute a module the package has already imported."""
from __future__ import annotations

import importlib
import os
import pickle
import signal
import sys
import threading
import traceback

from cnnviz.errors import ConfigError
from cnnviz.jobs.kind import run_job

NICENESS = 10      # lower CPU priority for jobs than for the web process


def _warm_up(torch) -> None:
    """What a job's first step would otherwise pay for: the optimizers' first construction imports
    torch._dynamo (seconds), the first conv forward/backward initialises its kernels."""
    conv = torch.nn.Conv2d(1, 2, 3)
    for opt in (torch.optim.AdamW(conv.parameters()), torch.optim.SGD(conv.parameters(), lr=0.1, momentum=0.9)):
        conv(torch.zeros(2, 1, 8, 8)).sum().backward()
        opt.step()
        opt.zero_grad(set_to_none=True)


def main() -> None:
    out = os.fdopen(os.dup(1), "wb")  # the message stream; anything printed goes to stderr instead
    os.dup2(2, 1)
    os.nice(NICENESS)
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

    send("ready", None)
    torch.set_num_threads(threads)
    try:
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
