"""Run a coroutine from a test, whatever the event loop state of the xdist worker."""
import asyncio
import threading


def run(coro):
    """asyncio.run on a thread of its own: a Playwright sync test earlier in this xdist worker leaves an event loop
    registered on the main thread, where asyncio.run refuses to start."""
    out = {}

    def target():
        try:
            out["value"] = asyncio.run(coro)
        except BaseException as e:  # re-raised on the test's thread
            out["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["value"]
