"""One training in a child process, its events and checkpoints streamed back to the web process.

Why: a training loop is Python between small tensor ops, and in the web process it holds the GIL most of the
time; every page of every student then waits behind it. A child process has its own interpreter, and a
lower CPU priority, so a class's clicks are served before the trainings' steps.

The child is ``python -m cnnviz.training.isolated``, not multiprocessing: multiprocessing re-imports the parent's
``__main__``, which under Streamlit is a page script. Protocol: the parent pickles (config, device, threads)
to the child's stdin; the child pickles ("event" | "checkpoint" | "failed", payload) messages to its stdout,
then ("end", None); SIGUSR1 asks it to stop (a job stops within a step)."""
from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import threading
import traceback

from cnnviz.training.events import Finished

NICENESS = 10      # lower CPU priority for trainings than for the web process
EXIT_GRACE_S = 10


def run_isolated(config, emit, stop: threading.Event, keep, device=None, threads: int | None = None) -> str | None:
    """Like ``run_job(config, emit, stop, keep, device)`` (a training or a distillation), in a child process;
    blocks until it ends.
    Returns None, or the failure message (a ConfigError, a crash, or the child dying, e.g. killed for memory)."""
    threads = threads or max(1, (os.cpu_count() or 2) - 1)
    proc = subprocess.Popen([sys.executable, "-m", "cnnviz.training.isolated"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, cwd=os.path.dirname(os.path.dirname(os.path.dirname(
                                os.path.abspath(__file__)))))
    done, ready, killed = threading.Event(), threading.Event(), threading.Event()

    def forward_stop():
        while not done.is_set():
            if stop.wait(0.1):
                if proc.poll() is not None:
                    return
                if ready.is_set():  # its SIGUSR1 handler is in place: it stops after the current step
                    proc.send_signal(signal.SIGUSR1)
                else:  # still starting up: nothing trained, nothing to keep
                    killed.set()
                    proc.kill()
                return

    def ended(failure: str | None, template: str) -> str | None:
        """The child is gone without its "end": stopped during start-up (None), else its own failure or
        ``template`` with its exit code."""
        proc.wait(EXIT_GRACE_S)
        if killed.is_set():
            emit(Finished(0, 0, "stopped", 0.0))
            return None
        return failure or template.format(code=proc.returncode)

    watcher = threading.Thread(target=forward_stop, name="cnnviz-stop-forward", daemon=True)
    watcher.start()
    failure = None
    try:
        pickle.dump((config, device, threads), proc.stdin)
        proc.stdin.close()
        while True:
            try:
                kind, payload = pickle.load(proc.stdout)
            except (EOFError, pickle.UnpicklingError):
                return ended(failure, "the training process ended unexpectedly (exit code {code}); the last "
                                      "good checkpoint is kept")
            if kind == "ready":
                ready.set()
            elif kind == "event":
                emit(payload)
            elif kind == "checkpoint":
                keep(payload)
            elif kind == "failed":
                failure = payload
            else:  # "end"
                return failure
    except BrokenPipeError:  # the child died before reading its config
        return ended(None, "the training process could not start (exit code {code})")
    finally:
        done.set()
        try:
            proc.wait(EXIT_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def _child() -> None:
    out = os.fdopen(os.dup(1), "wb")  # the message stream; anything printed goes to stderr instead
    os.dup2(2, 1)
    os.nice(NICENESS)
    stop = threading.Event()
    signal.signal(signal.SIGUSR1, lambda *_: stop.set())
    config, device, threads = pickle.load(sys.stdin.buffer)

    def send(kind, payload):
        pickle.dump((kind, payload), out)
        out.flush()

    send("ready", None)

    import torch

    from cnnviz.errors import ConfigError
    from cnnviz.training.jobs import run_job
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
    _child()
