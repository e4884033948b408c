"""Classroom load without a browser per student: N websocket clients speaking Streamlit's own protocol
(the protobuf classes shipped with streamlit: BackMsg / ClientState / WidgetStates out, ForwardMsg in) against a
server this script starts, while T trainings run in the Training Lab (started with its Start button, polled the
way the browser polls the live fragment: a fragment rerun every ``auto_rerun.interval``).

Each student opens Conv Arithmetic (``?cin=<200+i>``, a value only that student uses), then every 2–5 s (seeded)
either moves to another page (Conv Arithmetic, Convolution Animation, Feature Maps, Quiz with ``?seed=<700000+i>``)
or changes one of the page's widgets: kernel / stride / padding / mode / window slider, the animation's step and
kernel, feature-map layer / channel / shift / invert switches, a quiz answer and its Check button.
Latency = sending the rerun until the run's ``script_finished`` ForwardMsg (successful) arrives.

Errors: ``exception`` elements in the deltas, disconnects and reruns that never finished (timeout).
Leaked: sessions that were shown another student's distinctive value (``cin=2xx`` / quiz ``seed=7xxxxx`` in a
query string, the share link, a widget id) that they never set themselves.

    python -m bench.classroom_load -n 30                 # 60 s, 2 trainings (limiter cap = trainings)
    python -m bench.classroom_load -n 10 --duration 30 --trainings 0
    python -m bench.classroom_load -n 30 --trainings 10 --together   # 10 of them press Start at once: one group
    python -m bench.classroom_load --validate -r 8       # protocol vs Chromium, the same interaction side by side
    python -m bench.classroom_load --class -n 30         # a live class (bench/class_load.py)
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, rss_mib, stop_server  # noqa: E402
from tests.support.browser import start_server as browser_start  # noqa: E402

from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ClientState_pb2 import ClientState  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402

OK_FULL = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_SUCCESSFULLY")
OK_FRAGMENT = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_FRAGMENT_RUN_SUCCESSFULLY")
COMPILE_ERROR = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_WITH_COMPILE_ERROR")
WIDGETS = {"number_input", "slider", "selectbox", "radio", "checkbox", "button"}
TEXTS = {"markdown", "code", "text", "metric", "heading", "alert"}
CIN0, SEED0 = 200, 700_000            # distinctive per-student values: cin = 200 + i, quiz seed = 700000 + i
MARKS = re.compile(r"(?<![A-Za-z_])(cin|seed)=(\d+)|quiz_in_(\d+)_")
PAGES = {  # url path -> which widgets (by key) a student touches there
    "conv_arithmetic": re.compile(r"^arith_(k_0|s_0|d_0|p_0|cout|pad|mode|bias|win)$"),
    "conv_animation": re.compile(r"^anim_(.*step.*|ksize|stride|dilation|kernel|padding)$"),
    "feature_maps": re.compile(r"^feat_(invert|layer|ch|dy|dx)$"),
    "quiz": re.compile(r"^quiz_in_"),
}
PAGE_WEIGHTS = {"conv_arithmetic": 4, "conv_animation": 3, "feature_maps": 2, "quiz": 2}


def user_key(widget_id: str) -> str:
    """Streamlit's widget ids are ``$$ID-<hash>-<user key>``."""
    parts = widget_id.split("-", 2)
    return parts[2] if len(parts) == 3 and widget_id.startswith("$$ID") else ""


# --------------------------------------------------------------------------- server
def start_server(port: int | None = None, env: dict | None = None, timeout: float = 90):
    """The app on 127.0.0.1 (tests/support/browser.py's start-up); its log to $CLASSROOM_SERVER_LOG when set."""
    log = open(os.environ.get("CLASSROOM_SERVER_LOG", os.devnull), "w")
    return browser_start(env, timeout, port, log)


def on_server(drive, *args):
    """``await drive(url, server pid, *args)`` against a fresh app with one training slot, then stop the app."""
    proc, url = start_server(env={"CNNVIZ_MAX_JOBS": "1"})
    try:
        return asyncio.run(drive(url, proc.pid, *args))
    finally:
        stop_server(proc)


class Replicas:
    """``deploy/run_replicas.sh``: N app processes behind the sticky HAProxy, on 127.0.0.1 (each replica brings its
    own GIL, so a 2-core box serves scripts on both cores). Started and stopped here, by PID."""

    def __init__(self, n: int, env: dict, timeout: float = 120, proxy: int | None = None, first: int | None = None):
        """``proxy``, ``first``: the proxy's port and the first replica's (the others follow); free ones when None."""
        import subprocess
        import tempfile
        from tests.support.browser import free_port
        self.proxy = proxy or free_port()
        while first is None or self.proxy in range(first, first + n):
            first = free_port()
        self.ports = [first + i for i in range(n)]
        self.run_dir_file = tempfile.NamedTemporaryFile("w+", suffix=".rundir", delete=False).name
        log = open(os.environ.get("CLASSROOM_SERVER_LOG", os.devnull), "w")
        self.proc = subprocess.Popen(["bash", str(ROOT / "deploy" / "run_replicas.sh"), str(n), str(self.proxy)],
                                     cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                     env={**os.environ, **env, "FIRST_PORT": str(first), "SECONDS_LIMIT": "86400",
                                          "RUN_DIR_FILE": self.run_dir_file})
        self.url = f"http://127.0.0.1:{self.proxy}"
        deadline = time.time() + timeout
        import urllib.request
        while time.time() < deadline:
            try:
                if all(urllib.request.urlopen(f"http://127.0.0.1:{p}/_stcore/health", timeout=2).read() == b"ok"
                       for p in self.ports) and urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2):
                    break
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("deploy/run_replicas.sh ended: is haproxy installed?")
                time.sleep(0.5)
        else:
            self.stop()
            raise RuntimeError(f"the replicas did not answer within {timeout:g} s")
        run = Path(Path(self.run_dir_file).read_text().strip())
        self.pids = [int((run / f"replica{i + 1}.pid").read_text()) for i in range(n)]

    def stop(self) -> None:
        self.proc.terminate()  # its trap stops every replica and the proxy by their PIDs
        try:
            self.proc.wait(timeout=20)
        except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired: still going
            self.proc.kill()
            self.proc.wait()
        Path(self.run_dir_file).unlink(missing_ok=True)


def cpu_s(pid: int) -> float:
    """utime + stime of the process itself (children excluded), seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- one protocol session
class Disconnected(Exception):
    pass


@dataclass
class Client:
    """One browser tab, as the server sees it: a websocket on /_stcore/stream, reruns out, ForwardMsgs in."""
    url: str
    name: str = ""
    own_marks: set = field(default_factory=set)
    all_marks: dict = field(default_factory=dict)     # mark -> student who owns it

    def __post_init__(self):
        self.ws = None
        self.cache: dict[str, ForwardMsg] = {}          # cacheable messages by hash, as the frontend keeps them
        self.pages: dict[str, str] = {}                 # url path -> page_script_hash
        self.page_hash = self.page = ""
        self.query = ""
        self.widgets: dict[str, tuple[str, object]] = {}  # id -> (element type, proto) of the current page
        self.states: dict[str, WidgetState] = {}        # what this tab has set on the current page
        self.auto: tuple[float, str] | None = None      # the live fragment's (interval, fragment id)
        self.autos: dict[str, float] = {}               # every timed fragment of the page: id -> interval
        self.metrics: dict[str, str] = {}               # metric label -> value shown by the last run
        self.alerts: list[str] = []                     # info/warning/error texts shown by the last run
        self.exceptions: list[str] = []
        self.leaks: list[str] = []
        self.runs = self.msgs = 0                       # successful script runs, ForwardMsgs received
        self.closed = False
        self.session_id = ""                            # the server's id of this session
        self._done: asyncio.Future | None = None

    async def connect(self, timeout: float = 60) -> None:
        from websockets.asyncio.client import connect  # installed with streamlit's server (uvicorn)
        ws_url = self.url.replace("http://", "ws://") + "/_stcore/stream"
        self.ws = await asyncio.wait_for(connect(ws_url, subprotocols=["streamlit"], max_size=512 * 2 ** 20,
                                                 ping_interval=None, compression=None,
                                                 open_timeout=timeout), timeout)
        self._reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        self._closing = True  # our own close is not a disconnect
        if self.ws is not None:
            await self.ws.close()
        if getattr(self, "_reader", None):
            self._reader.cancel()

    async def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed
        while True:
            try:
                data = await self.ws.recv()
            except ConnectionClosed:
                data = None
            if data is None or isinstance(data, str):
                self.closed = not getattr(self, "_closing", False)
                if self._done is not None and not self._done.done():
                    self._done.set_exception(Disconnected(self.name))
                return
            msg = ForwardMsg()
            msg.ParseFromString(data)
            self.msgs += 1
            try:
                self._handle(msg)
            except Exception as e:  # noqa: BLE001 - a bug here must not look like a server error
                print(f"{self.name}: client error {e!r}", file=sys.stderr)

    def _handle(self, msg: ForwardMsg) -> None:
        if msg.HasField("ref_hash"):
            cached = self.cache.get(msg.ref_hash)
            if cached is None:
                return
            msg = cached
        elif msg.metadata.cacheable and msg.hash:
            self.cache[msg.hash] = msg
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            if msg.new_session.HasField("initialize"):  # the first run: the session's id (upload URLs carry it)
                self.session_id = msg.new_session.initialize.session_id
            self._app_pages(msg.new_session.app_pages)
            self.page_hash = msg.new_session.page_script_hash or self.page_hash
        elif kind == "navigation":
            self._app_pages(msg.navigation.app_pages)
            self.page_hash = msg.navigation.page_script_hash or self.page_hash
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
            self._scan(self.query)
        elif kind == "auto_rerun":
            self.auto = (msg.auto_rerun.interval, msg.auto_rerun.fragment_id)
            self.autos[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            el = msg.delta.new_element
            etype = el.WhichOneof("type")
            if etype == "exception":
                self.exceptions.append(f"{el.exception.type}: {el.exception.message}"[:300])
            elif etype in WIDGETS:
                proto = getattr(el, etype)
                self.widgets[proto.id] = (etype, proto)
                self._scan(proto.id)
            elif etype in TEXTS:
                proto = getattr(el, etype)
                if etype == "metric":  # the first one of this run (Conv Arithmetic has two "Output shape"s)
                    self.metrics.setdefault(proto.label, proto.body)
                elif etype == "alert":
                    self.alerts.append(proto.body)
                self._scan(getattr(proto, "body", "") or getattr(proto, "code_text", ""))
        elif kind == "script_finished":
            status = msg.script_finished
            if status in (OK_FULL, OK_FRAGMENT):
                self.runs += 1
            if status in (OK_FULL, OK_FRAGMENT, COMPILE_ERROR) and self._done is not None and not self._done.done():
                self._done.set_result(status)

    def _app_pages(self, pages) -> None:
        for p in pages:
            self.pages[p.url_pathname] = p.page_script_hash

    def _scan(self, text: str) -> None:
        """Another student's distinctive value shown to this one: a leak."""
        if not text or not self.all_marks:
            return
        for m in MARKS.finditer(text):
            mark = f"cin={m[2]}" if m[1] == "cin" else f"seed={m[2] or m[3]}"
            if mark in self.all_marks and mark not in self.own_marks:
                self.leaks.append(f"{self.name} saw {mark} of {self.all_marks[mark]} in {text[:120]!r}")

    async def rerun(self, states=(), page: str | None = None, query: str | None = None, fragment_id: str = "",
                    timeout: float = 120) -> float:
        """Send one rerun (like the frontend: all widget states this tab has set, plus ``states``); seconds until
        its successful ``script_finished``. Disconnected / asyncio.TimeoutError otherwise."""
        if self.closed:
            raise Disconnected(self.name)
        if page is not None and page != self.page:  # page switch: the frontend drops the old page's widgets
            self.page, self.widgets, self.states, self.auto = page, {}, {}, None
        if not fragment_id:  # a full run declares the page's timed fragments afresh
            self.autos = {}
        if query is not None:
            self.query = query
        for s in states:
            if not s.HasField("trigger_value"):
                self.states[s.id] = s
        cs = ClientState(query_string=self.query, page_script_hash=self.pages.get(self.page, ""),
                         page_name="" if self.page in self.pages else self.page, fragment_id=fragment_id,
                         is_auto_rerun=bool(fragment_id))
        sent = {s.id: s for s in self.states.values()} | {s.id: s for s in states}
        cs.widget_states.widgets.extend(sent.values())
        cs.cached_message_hashes.extend(self.cache)
        self._done = asyncio.get_running_loop().create_future()
        self.metrics, self.alerts = {}, []
        t0 = time.perf_counter()
        await self.ws.send(BackMsg(rerun_script=cs).SerializeToString())
        try:
            await asyncio.wait_for(asyncio.shield(self._done), timeout)
        finally:
            self._done = None
        return time.perf_counter() - t0

    # ------------------------------------------------------------------ widget helpers
    def find(self, pattern: re.Pattern | str, etype: str | None = None):
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        return [(wid, t, p) for wid, (t, p) in self.widgets.items()
                if (etype is None or t == etype) and (rx.search(user_key(wid)) or rx.search(getattr(p, "label", "")))]

    def current(self, wid: str, etype: str, proto):
        s = self.states.get(wid)
        if s is not None:
            return getattr(s, s.WhichOneof("value"))
        return None

    def random_state(self, wid: str, etype: str, proto, rng: random.Random) -> WidgetState | None:
        s = WidgetState(id=wid)
        if getattr(proto, "disabled", False):
            return None
        if etype == "number_input":
            lo = proto.min if proto.has_min else 0
            hi = proto.max if proto.has_max else lo + 10
            hi = hi if user_key(wid).endswith("step") else min(hi, lo + 8)  # steps: any; sizes: small ones
            vals = [v for v in range(int(lo), int(hi) + 1) if v != self.current(wid, etype, proto)] or [int(lo)]
            s.double_value = float(rng.choice(vals))
        elif etype == "slider":
            if proto.type != proto.SLIDER or proto.max <= proto.min:
                return None
            s.double_array_value.data.append(float(rng.randint(int(proto.min), int(proto.max))))
        elif etype in ("selectbox", "radio"):
            opts = [o for o in proto.options if o != self.current(wid, etype, proto)]
            if not opts:
                return None
            s.string_value = rng.choice(opts)
        elif etype == "checkbox":
            cur = self.current(wid, etype, proto)
            s.bool_value = not (proto.default if cur is None else cur)
        elif etype == "button":
            s.trigger_value = True
        else:
            return None
        return s


# --------------------------------------------------------------------------- a class
@dataclass
class Record:
    who: str
    what: str
    latency: float | None   # None: failed
    at: float


async def open_page(c: Client, page: str, i: int, timeout: float) -> float:
    query = {"conv_arithmetic": f"cin={CIN0 + i}", "quiz": f"seed={SEED0 + i}"}.get(page, "")
    return await c.rerun(page=page, query=query, timeout=timeout)


async def student(i: int, url: str, rng: random.Random, start: float, stop_at: float, marks: dict,
                  records: list, timeout: float) -> Client:
    c = Client(url, f"student{i}", own_marks={f"cin={CIN0 + i}", f"seed={SEED0 + i}"}, all_marks=marks)

    async def act(what, coro):
        t0 = time.perf_counter()
        try:
            latency = await coro
            if what != "connect":
                records.append(Record(c.name, what, latency, time.perf_counter() - start))
        except Exception as e:  # noqa: BLE001 - timeouts, disconnects, refused handshakes: all errors here
            records.append(Record(c.name, f"{what} FAILED {type(e).__name__} after {time.perf_counter() - t0:.1f} s",
                                  None, time.perf_counter() - start))
            raise Disconnected(str(e)) from e

    try:
        await act("connect", c.connect(timeout))
        await act("load conv_arithmetic", open_page(c, "conv_arithmetic", i, timeout))
        while time.perf_counter() < stop_at and not c.closed:
            await asyncio.sleep(rng.uniform(2, 5))
            if time.perf_counter() >= stop_at:
                break
            if rng.random() < 0.25:
                page = rng.choices(list(PAGE_WEIGHTS), weights=list(PAGE_WEIGHTS.values()))[0]
                if page != c.page:
                    await act(f"load {page}", open_page(c, page, i, timeout))
                    continue
            choices = [w for w in c.find(PAGES[c.page]) if c.random_state(*w, rng) is not None]
            if not choices:
                await act(f"load {c.page}", open_page(c, c.page, i, timeout))
                continue
            wid, etype, proto = rng.choice(choices)
            what = f"{c.page}: {etype} {user_key(wid) or proto.label}"
            await act(what, c.rerun([c.random_state(wid, etype, proto, rng)], timeout=timeout))
            if c.page == "quiz":  # an answer, then its Check button
                n = re.search(r"_(\d+)$", user_key(wid))
                check = c.find(rf"^quiz_check_{n[1]}$", "button") if n else []
                if check:
                    await asyncio.sleep(rng.uniform(0.5, 1.5))
                    await act("quiz: Check", c.rerun([WidgetState(id=check[0][0], trigger_value=True)],
                                                     timeout=timeout))
    except (asyncio.TimeoutError, Disconnected, OSError):
        pass
    finally:
        await c.close()
    return c


async def trainer(j: int, url: str, start: float, stop_at: float, records: list, timeout: float,
                  gate: "Gate | None" = None) -> dict:
    """A Training Lab tab: press Start (again when a training has ended), then poll the live fragment at the
    interval the server asks for, as the frontend does. ``gate`` (``--together``): the first Start waits until
    every trainer has its page loaded, then all press it at once (the same recipe: one class group)."""
    c = Client(url, f"trainer{j}")
    seen = dict(name=c.name, starts=0, polls=0, first_epoch_s=None, epochs=[], failed=0, pressed_at=None,
                classmates=0, before_first=[])  # before_first: [(s after Start, a status text)], each new text once
    try:
        await c.connect(timeout)
        lat = await c.rerun(page="training_lab", query="epochs=50", timeout=timeout)
        records.append(Record(c.name, "load training_lab", lat, time.perf_counter() - start))
        if gate is not None:
            await gate.wait()
        pressed, due = None, {}
        while time.perf_counter() < stop_at and not c.closed:
            for text in c.alerts:  # "Training together with 9 classmates · about 40 s left"
                if m := TOGETHER.search(text):
                    seen["classmates"] = max(seen["classmates"], int(m[1]))
            btn = c.find(r"^Start$", "button")
            if btn and not btn[0][2].disabled:
                seen["pressed_at"] = seen["pressed_at"] or time.perf_counter() - start
                lat = await c.rerun([WidgetState(id=btn[0][0], trigger_value=True)], timeout=timeout)
                records.append(Record(c.name, "training_lab: Start", lat, time.perf_counter() - start))
                seen["starts"] += 1
                pressed = time.perf_counter()
                continue
            if not c.autos:
                await asyncio.sleep(1.0)
                await c.rerun(timeout=timeout)
                continue
            # every timed fragment at its own pace, as the frontend does (the live panel's, the first layer's ...)
            now = time.perf_counter()
            due = {f: due.get(f, now + s) for f, s in c.autos.items()}  # when each fragment runs next
            frag = min(due, key=due.get)
            await asyncio.sleep(max(0.0, due[frag] - time.perf_counter()))
            due[frag] = time.perf_counter() + c.autos.get(frag, 1.0)
            t = await c.rerun(fragment_id=frag, timeout=timeout)
            records.append(Record(c.name, "training_lab: poll (fragment)", t, time.perf_counter() - start))
            seen["polls"] += 1
            epoch = c.metrics.get("Epoch", "–")
            if pressed is not None and seen["first_epoch_s"] is None:  # what the page said while it waited
                said = " | ".join(a[:80] for a in c.alerts)  # (a fragment without any says nothing new)
                if said and (not seen["before_first"] or seen["before_first"][-1][1] != said):
                    seen["before_first"].append((round(time.perf_counter() - pressed, 1), said))
            if "Epoch" not in c.metrics:
                continue
            if epoch != "–":
                seen["epochs"].append(epoch)
                if seen["first_epoch_s"] is None and pressed is not None:
                    seen["first_epoch_s"] = time.perf_counter() - pressed
    except Exception as e:  # noqa: BLE001 - any failure is an error of this run
        seen["failed"] += 1
        records.append(Record(c.name, f"trainer FAILED {type(e).__name__}", None, time.perf_counter() - start))
    finally:
        await c.close()
    seen.update(exceptions=c.exceptions, runs=c.runs, leaks=c.leaks, closed=c.closed)
    return seen


TOGETHER = re.compile(r"Training together with (\d+) classmate")


class Gate:
    """``--together``: the trainers' first Start waits until all of them have loaded the Training Lab (at most
    ``timeout`` s), then every one presses it at once, as a class does when the teacher says "press Start"."""

    def __init__(self, n: int, timeout: float = 120):
        self.n, self.timeout, self.arrived, self.open = n, timeout, 0, asyncio.Event()

    async def wait(self) -> None:
        self.arrived += 1
        if self.arrived >= self.n:
            self.open.set()
        try:
            await asyncio.wait_for(self.open.wait(), self.timeout)
        except asyncio.TimeoutError:
            self.open.set()


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))] if xs else float("nan")


async def classroom(url: str, n: int, duration: float, trainings: int = 2, seed: int = 0, pid=None,
                    timeout: float = 120, ramp: float | None = None, together: bool = False) -> dict:
    """The load itself against a running server; returns the figures (also used by the CI test). ``pid``: the
    server's process id, or a list of them (replicas): CPU and memory are their sums. ``together``: the trainers
    press Start at the same moment (:class:`Gate`), so they train as one class group."""
    pids = [pid] if isinstance(pid, int) else list(pid or [])
    marks = {f"cin={CIN0 + i}": f"student{i}" for i in range(n)} | {f"seed={SEED0 + i}": f"student{i}"
                                                                   for i in range(n)}
    records: list[Record] = []
    rss = [sum(rss_mib(p) for p in pids)] if pids else []
    cpu0 = sum(cpu_s(p) for p in pids)
    start = time.perf_counter()
    stop_at = start + duration
    ramp = min(10.0, duration / 4) if ramp is None else ramp

    async def delayed(i):
        rng = random.Random(seed * 1000 + i)
        await asyncio.sleep(ramp * i / max(1, n))  # a class opens the link within a few seconds
        return await student(i, url, rng, start, stop_at, marks, records, timeout)

    async def sample_rss():
        while True:
            await asyncio.sleep(1.0)
            rss.append(sum(rss_mib(p) for p in pids))

    sampler = asyncio.create_task(sample_rss()) if pids else None
    gate = Gate(trainings) if together and trainings else None
    trainers = [asyncio.create_task(trainer(j, url, start, stop_at, records, timeout, gate))
                for j in range(trainings)]
    students = await asyncio.gather(*(delayed(i) for i in range(n)))
    trained = await asyncio.gather(*trainers)
    wall = time.perf_counter() - start
    if sampler:
        sampler.cancel()
    cpu = (sum(cpu_s(p) for p in pids) - cpu0) if pids else float("nan")
    ok = [r.latency for r in records if r.latency is not None and not r.who.startswith("trainer")]
    inter = [r.latency for r in records if r.latency is not None and not r.who.startswith("trainer")
             and not r.what.startswith("load")]
    polls = [r.latency for r in records if r.latency is not None and "poll" in r.what]
    failed = [r for r in records if r.latency is None]
    exceptions = [(c.name, e) for c in students for e in c.exceptions] + \
                 [(t["name"], e) for t in trained for e in t["exceptions"]]
    disconnects = [c.name for c in students if c.closed] + [t["name"] for t in trained if t["closed"]]
    leaked = [c for c in students if c.leaks] + [t for t in trained if t["leaks"]]
    by_what: dict[str, list[float]] = {}
    for r in records:
        if r.latency is not None:
            by_what.setdefault(r.what.split(":")[0] if r.what.startswith("load") else r.what, []).append(r.latency)
    runs = sum(c.runs for c in students) + sum(t["runs"] for t in trained)
    pressed = [t["pressed_at"] for t in trained if t["pressed_at"] is not None]
    return dict(
        n=n, trainings=trainings, together=together, duration_s=wall,
        start_spread_s=max(pressed) - min(pressed) if pressed else None, interactions=len(ok), p50_s=pct(ok, 0.5), p95_s=pct(ok, 0.95),
        max_s=max(ok, default=float("nan")), widget_p50_s=pct(inter, 0.5), widget_p95_s=pct(inter, 0.95),
        poll_p50_s=pct(polls, 0.5), poll_p95_s=pct(polls, 0.95), runs=runs, runs_per_s=runs / wall,
        server_cpu_s=cpu, rss_start_mib=rss[0] if rss else None, rss_peak_mib=max(rss) if rss else None,
        rss_end_mib=rss[-1] if rss else None,
        errors=len(exceptions) + len(set(disconnects)) + len(failed),
        exceptions=exceptions[:20], disconnects=sorted(set(disconnects)), failed=[r.__dict__ for r in failed][:20],
        leaked=len(leaked), leak_examples=[x for c in students for x in c.leaks][:5],
        session_runs={c.name: c.runs for c in students}, trainers=[{k: v for k, v in t.items() if k != "epochs"}
                                                                    | dict(last_epoch=(t["epochs"] or ["–"])[-1])
                                                                    for t in trained],
        by_what={k: dict(count=len(v), p50_s=pct(v, 0.5), p95_s=pct(v, 0.95)) for k, v in sorted(by_what.items())},
        records=[dict(who=r.who, what=r.what, latency_s=r.latency, at_s=round(r.at, 3)) for r in records])


def report(r: dict) -> None:
    print(f"{r['n']} students + {r['trainings']} trainings for {r['duration_s']:.0f} s: {r['interactions']} "
          f"interactions (page loads included)")
    print(f"{'what':58s} {'count':>6s} {'p50 s':>7s} {'p95 s':>7s}")
    for k, v in r["by_what"].items():
        print(f"{k[:58]:58s} {v['count']:6d} {v['p50_s']:7.2f} {v['p95_s']:7.2f}")
    print(f"latency p50 {r['p50_s']:.2f} s, p95 {r['p95_s']:.2f} s, max {r['max_s']:.2f} s "
          f"(widget changes only: p50 {r['widget_p50_s']:.2f} s, p95 {r['widget_p95_s']:.2f} s; "
          f"training polls p50 {r['poll_p50_s']:.2f} s, p95 {r['poll_p95_s']:.2f} s)")
    print(f"reruns served: {r['runs']} = {r['runs_per_s']:.1f}/s; server CPU {r['server_cpu_s']:.1f} s "
          f"({100 * r['server_cpu_s'] / r['duration_s']:.0f}% of one core"
          + (f", {r['replicas']} replicas)" if r.get("replicas", 1) > 1 else ")"))
    if r["rss_start_mib"] is not None:
        print(f"server RSS: {r['rss_start_mib']:.0f} MiB at start, peak {r['rss_peak_mib']:.0f}, "
              f"end {r['rss_end_mib']:.0f} MiB")
    for t in r["trainers"]:
        print(f"{t['name']}: starts {t['starts']}, polls {t['polls']}, first epoch shown "
              f"{t['first_epoch_s'] and round(t['first_epoch_s'], 1)} s after Start, last epoch {t['last_epoch']}"
              + (f", trained with {t['classmates']} classmates" if t.get("classmates") else ""))
        if (t["first_epoch_s"] or 0) > 5:  # a slow first point: what the page said meanwhile
            print("    before its first epoch: " + "; ".join(f"{s:g} s {text}" for s, text in t["before_first"][:6]))
    if r.get("together") and r.get("start_spread_s") is not None:
        print(f"trainers pressed Start within {r['start_spread_s']:.2f} s of each other; most classmates seen: "
              f"{max(t.get('classmates', 0) for t in r['trainers'])}")
    low = [k for k, v in r["session_runs"].items() if v < 1]
    print(f"sessions with no completed rerun: {low or 'none'}")
    for e in r["exceptions"][:5]:
        print("exception:", e)
    for e in r["failed"][:5]:
        print("failed:", e)
    for e in r["leak_examples"]:
        print("leak:", e)
    print(f"p95_s: {r['p95_s']:.2f}, sessions: {r['n']}, errors: {r['errors']}, leaked: {r['leaked']}")


# --------------------------------------------------------------------------- protocol vs browser
KERNELS = (1, 2, 4, 5, 6, 7)
SIZE = 9


def expected(k: int) -> str:
    n = SIZE + 2 - k + 1
    return f"8×{n}×{n}"


async def validate(url: str, rounds: int, timeout: float = 120) -> dict:
    """The same interaction (Conv Arithmetic's kernel, 9×9 input) from one protocol client and one Chromium
    page, alternately; latency and how many script runs the server finished for each session."""
    from playwright.async_api import async_playwright
    proto = Client(url, "protocol")
    await proto.connect()
    await proto.rerun(page="conv_arithmetic", query=f"size={SIZE}", timeout=timeout)
    out = dict(protocol=[], browser=[], browser_finished=[], shown_protocol=[], runs_protocol=0, runs_browser=0)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            pg = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
            pg.set_default_timeout(timeout * 1000)
            finished: list[float] = []

            def on_ws(ws):
                def frame(payload):
                    if isinstance(payload, (bytes, bytearray)):
                        m = ForwardMsg()
                        try:
                            m.ParseFromString(bytes(payload))
                        except Exception:  # noqa: BLE001
                            return
                        if m.WhichOneof("type") == "script_finished" and m.script_finished in (OK_FULL, OK_FRAGMENT):
                            finished.append(time.perf_counter())
                ws.on("framereceived", frame)
            pg.on("websocket", on_ws)
            wait_js = ("t => [...document.querySelectorAll('[data-testid=stMetricValue]')]"
                       ".slice(0, 1).some(e => e.innerText.trim() === t)")
            await pg.goto(f"{url}/conv_arithmetic?size={SIZE}")
            await pg.wait_for_function(wait_js, arg=expected(3), polling=50)
            kernel = pg.get_by_label("Kernel", exact=True)
            await asyncio.sleep(1.0)
            b0, p0 = len(finished), proto.runs
            wid = proto.find(r"^arith_k_0$", "number_input")[0][0]
            for r in range(rounds):
                k = KERNELS[r % len(KERNELS)]
                s = WidgetState(id=wid, double_value=float(k))
                out["protocol"].append(await proto.rerun([s], timeout=timeout))
                out["shown_protocol"].append(f"{proto.metrics.get('Output shape', '?')} (expected {expected(k)})")
                await asyncio.sleep(0.5)
                n0 = len(finished)
                t0 = time.perf_counter()
                await kernel.fill(str(k))
                await kernel.press("Enter")
                await pg.wait_for_function(wait_js, arg=expected(k), polling=20)
                out["browser"].append(time.perf_counter() - t0)
                for _ in range(250):  # the DOM can update before the run's script_finished frame arrives
                    if len(finished) > n0:
                        break
                    await asyncio.sleep(0.02)
                out["browser_finished"].append(finished[n0] - t0 if len(finished) > n0 else float("nan"))
                await asyncio.sleep(0.5)
            await asyncio.sleep(1.0)
            out["runs_protocol"], out["runs_browser"] = proto.runs - p0, len(finished) - b0
        finally:
            await browser.close()
            await proto.close()
    return out


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--class" in argv:  # a live class: bench/class_load.py (30 students join, answer; the teacher's dashboard)
        from bench.class_load import main as class_main
        return class_main([a for a in argv if a != "--class"])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=30, help="simulated students")
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--trainings", type=int, default=2, help="Training Lab tabs that start a training")
    ap.add_argument("--cap", type=int, default=None, help="CNNVIZ_MAX_JOBS for the server (default: trainings; "
                    "with --together the server's own default, cpu_count // 2)")
    ap.add_argument("--together", action="store_true", help="the trainers press Start within a second of each "
                    "other (after all have loaded the page), the same recipe: one class group")
    ap.add_argument("--port", type=int, default=None, help="the server's port (with --replicas: the proxy's)")
    ap.add_argument("--first-port", type=int, default=None, help="--replicas: the first replica's port (FIRST_PORT)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=120, help="seconds one rerun may take before it is an error")
    ap.add_argument("--validate", action="store_true", help="protocol client vs Chromium, side by side")
    ap.add_argument("-r", "--rounds", type=int, default=6, help="--validate: interactions per client")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--cold-spares", action="store_true", help="start the class right after the warm-up, while "
                    "the servers' spare job children (started by the Training Lab's first visit) still import torch")
    ap.add_argument("--replicas", type=int, default=1, help="app processes behind deploy/'s HAProxy (needs haproxy)")
    a = ap.parse_args(argv)
    cap = a.cap or (None if a.together else max(1, a.trainings))
    env = {"CNNVIZ_MAX_JOBS": str(cap)} if cap else {}
    if a.replicas > 1:
        replicas = Replicas(a.replicas, env=env, proxy=a.port, first=a.first_port)
        url, pids, stop = replicas.url, replicas.pids, replicas.stop
        warm_urls = [f"http://127.0.0.1:{p}" for p in replicas.ports]
    else:
        proc, url = start_server(a.port, env=env)
        pids, stop, warm_urls = proc.pid, (lambda: stop_server(proc)), [url]
    try:
        for u in warm_urls:  # the first run imports torch & co.: not a student's latency
            asyncio.run(_warm(Client(u, "warm-up")))
        if not a.cold_spares:  # as on a server that has been up a minute: its spare job children are warm
            waited = wait_for_spares(pids if isinstance(pids, list) else [pids])
            print(f"spare job children warm {waited:.1f} s after the warm-up", flush=True)
        if a.validate:
            r = asyncio.run(validate(url, a.rounds))
            print(f"{'round':>5s} {'protocol s':>11s} {'browser DOM s':>14s} {'browser script_finished s':>26s}")
            for i, (x, y, z) in enumerate(zip(r["protocol"], r["browser"], r["browser_finished"])):
                print(f"{i + 1:5d} {x:11.3f} {y:14.3f} {z:26.3f}")
            print(f"median: protocol {statistics.median(r['protocol']):.3f} s, browser {statistics.median(r['browser']):.3f}"
                  f" s (script_finished {statistics.median(r['browser_finished']):.3f} s)")
            print(f"script runs the server finished: protocol {r['runs_protocol']}, browser {r['runs_browser']} "
                  f"for {a.rounds} interactions each; the protocol client's Output shape metric: {r['shown_protocol']}")
            if a.json:
                a.json.write_text(json.dumps(r, indent=1))
            return
        r = asyncio.run(classroom(url, a.n, a.duration, a.trainings, a.seed, pids, a.timeout, together=a.together))
        r["replicas"] = a.replicas
        if a.json:
            a.json.write_text(json.dumps(r, indent=1, default=str))
        report(r)
    finally:
        stop()


def job_children(pid: int) -> dict[int, float]:
    """The job children (``cnnviz.jobs.worker``) of server ``pid``: child pid -> its CPU seconds so far."""
    out = {}
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
        for k in kids:
            try:
                if b"cnnviz.jobs.worker" in Path(f"/proc/{k}/cmdline").read_bytes():
                    out[k] = cpu_s(k)
            except OSError:
                pass
    return out


def wait_for_spares(pids: list[int], timeout: float = 240.0, still_s: float = 2.0) -> float:
    """Wait until every server has a job child and none of them has used CPU for ``still_s`` (its imports done,
    blocked on reading its job); the seconds waited (``timeout`` at most)."""
    t0 = time.perf_counter()
    last, still_since = None, time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        now = [job_children(p) for p in pids]
        merged = {k: v for d in now for k, v in d.items()}
        if merged != last or not all(now):
            last, still_since = merged, time.perf_counter()
        elif time.perf_counter() - still_since >= still_s:
            return time.perf_counter() - t0 - still_s
        time.sleep(0.25)
    return time.perf_counter() - t0


async def _warm(c: Client) -> None:
    await c.connect()
    for page in ("conv_arithmetic", "conv_animation", "feature_maps", "quiz", "training_lab"):
        await c.rerun(page=page, query="", timeout=180)
    await c.close()


if __name__ == "__main__":
    main()
