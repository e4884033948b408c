"""A live class under load, without a browser per student (bench/classroom_load.py's protocol client): a teacher
starts a class and keeps its dashboard open (the fragment's own 1-s refresh, as the browser does it); N students
join by code with their own nickname (``Stu<i>x``), open the class's quiz (``?seed=1&level=easy``) and answer
``--questions`` questions, each with its own distinctive value (900000 + 1000·i + question).

Latency: a student's rerun (open the page, join, open the quiz, Check) until its ``script_finished``.
Dashboard lag: from an answer's Check finishing to the first dashboard refresh counting it.
Errors: exceptions shown, disconnects, timeouts, a refused join. Leaked: a student shown another student's
nickname or answer value.

    python -m bench.class_load -n 30          # last line: class_load: students N, p95_s X, dashboard_lag_p95_s Y, ...
    python -m bench.classroom_load --class -n 30   # the same
"""
from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import tempfile
import time
from pathlib import Path

from bench.classroom_load import Client, pct, start_server, stop_server
from streamlit.proto.WidgetStates_pb2 import WidgetState

# The teacher's dashboard titles a question "Quiz 1 · easy · question 1" (opt-in kinds: "Quiz 1 · easy + tf, dice ·
# question 1"; cnnviz.ui.live_class.question_title): the Quiz page's qid "1:easy:0" ("1:easy_tf_dice:0").
ANSWERED = re.compile(r"\*\*Quiz (\d+) · ([a-z]+)(?: \+ ([a-z, ]+))? · question (\d+)\*\* — (\d+) answered")


def answer_counts(texts) -> dict:
    """{qid: students who answered} as the teacher's dashboard shows them in ``texts``."""
    return {f"{m[1]}:{m[2]}" + "".join(f"_{k}" for k in (m[3] or "").split(", ") if k) + f":{int(m[4]) - 1}": int(m[5])
            for text in texts for m in ANSWERED.finditer(text)}


class ClassClient(Client):
    """The protocol client, also reading text inputs and every text it is shown (for the leak check)."""

    def __post_init__(self):
        super().__post_init__()
        self.texts: list[str] = []
        self.foreign: dict[str, str] = {}  # another student's nickname / answer -> whose
        self.autos: dict[str, float] = {}  # fragment id -> its refresh interval (the page's run_every fragments)

    def _handle(self, msg) -> None:
        super()._handle(msg)
        if msg.WhichOneof("type") == "auto_rerun":  # every self-refreshing fragment of the page, as a browser
            self.autos[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
        if msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element":
            el = msg.delta.new_element
            etype = el.WhichOneof("type")
            if etype == "text_input":
                self.widgets[el.text_input.id] = ("text_input", el.text_input)
            elif etype in ("markdown", "alert", "metric", "text", "heading", "code", "dataframe"):
                proto = getattr(el, etype)
                body = proto.arrow_data.data.decode("latin-1") if etype == "dataframe" else getattr(proto, "body", "")
                self.texts.append(body)
                for mark, whose in self.foreign.items():
                    if mark in body:
                        self.leaks.append(f"{self.name} saw {mark!r} of {whose}")

    async def rerun(self, *args, **kwargs) -> float:
        self.texts = []
        return await super().rerun(*args, **kwargs)

    def key(self, user_key: str) -> str:
        found = [wid for wid in self.widgets if wid.endswith("-" + user_key)]
        if not found:
            raise LookupError(f"{self.name}: no widget {user_key} on {self.page}")
        return found[0]


def text_state(wid, value):
    s = WidgetState(id=wid)
    s.string_value = value
    return s


def trigger(wid):
    s = WidgetState(id=wid)
    s.trigger_value = True
    return s


def number(wid, value):
    s = WidgetState(id=wid)
    s.double_value = float(value)
    return s


def value_of(i: int, q: int) -> int:
    return 900_000 + 1000 * i + q


async def teacher_loop(t: ClassClient, stop: asyncio.Event, seen: list, errors: list, timeout: float) -> None:
    """Follow the page's own refreshes, each fragment at its interval (the 1-s answers, the 5-s runs and drawings),
    one at a time as the browser sends them; record (time, {question: answered}) after each answers refresh."""
    due: dict[str, float] = {}
    while not stop.is_set():
        autos = t.autos or ({t.auto[1]: t.auto[0]} if t.auto else {"": 1.0})
        now = time.perf_counter()
        for fid, interval in autos.items():
            due.setdefault(fid, now + interval)
        fid = min(autos, key=lambda f: due[f])
        await asyncio.sleep(max(0.0, due[fid] - time.perf_counter()))
        due[fid] = time.perf_counter() + autos[fid]
        try:
            await t.rerun(fragment_id=fid, timeout=timeout)
        except Exception as e:  # noqa: BLE001 - a refresh that failed is an error of the run
            errors.append(f"teacher: {e!r}")
            continue
        counts = answer_counts(t.texts)
        if counts or autos[fid] == min(autos.values()):
            seen.append((time.perf_counter(), counts))


async def idle(c: ClassClient, seconds: float, lat: list, timeout: float) -> None:
    """A student reading for ``seconds``: meanwhile the page's own refresh runs when due (the banner to follow the
    teacher, every few seconds), as the browser runs it; those reruns count in the latencies too."""
    end = time.perf_counter() + seconds
    while (left := end - time.perf_counter()) > 0:
        interval, fid = c.auto or (None, "")
        due = getattr(c, "next_auto", 0.0)
        if interval and fid and time.perf_counter() >= due:
            c.next_auto = time.perf_counter() + interval
            lat.append(await c.rerun(fragment_id=fid, timeout=timeout))
            c.fragment_runs = getattr(c, "fragment_runs", 0) + 1
            continue
        await asyncio.sleep(min(left, max(0.05, due - time.perf_counter()) if interval else left))


async def student(i, url, code, n, questions, lat, answers, errors, timeout, rng):
    nick = f"Stu{i:02d}x"
    c = ClassClient(url, nick)
    c.foreign = {f"Stu{j:02d}x": f"student {j}" for j in range(n) if j != i}
    c.foreign |= {f"{value_of(j, q):,}": f"student {j}" for j in range(n) if j != i for q in range(questions)}
    c.foreign |= {str(value_of(j, q)): f"student {j}" for j in range(n) if j != i for q in range(questions)}
    try:
        await c.connect()
        lat.append(await c.rerun(page="live_class", timeout=timeout))
        lat.append(await c.rerun([text_state(c.key("live_code"), code.lower()), text_state(c.key("live_nick"), nick),
                                  trigger(c.key("live_join"))], timeout=timeout))
        if not any(f"as **{nick}**" in t for t in c.texts):
            errors.append(f"{nick}: not joined: {' | '.join(c.texts)[:200]}")
            return c
        lat.append(await c.rerun(page="quiz", query="seed=1&level=easy", timeout=timeout))
        for q in range(questions):
            await idle(c, rng.uniform(0.5, 2.0), lat, timeout)  # reading the question
            v = value_of(i, q)
            lat.append(await c.rerun([number(c.key(f"quiz_in_1_easy_{q}"), v), trigger(c.key(f"quiz_check_{q}"))],
                                     timeout=timeout))
            if not any(f"Your answer {v:,} is in" in t for t in c.texts):
                errors.append(f"{nick}: answer {q} not taken")
            answers.append((f"1:easy:{q}", time.perf_counter()))
    except Exception as e:  # noqa: BLE001 - timeouts, disconnects, a missing widget: errors of the run
        errors.append(f"{nick}: {e!r}")
    return c


def lags(answers: list, seen: list) -> list[float]:
    """For each question, its k-th answer in time is counted once a refresh shows ≥ k answers to it."""
    out = []
    for qid in {q for q, _ in answers}:
        times = sorted(t for q, t in answers if q == qid)
        for k, t in enumerate(times, 1):
            shown = [ts for ts, counts in seen if ts >= t and counts.get(qid, 0) >= k]
            out.append(min(shown) - t if shown else float("inf"))
    return out


async def drive(url: str, n: int, questions: int, timeout: float, seed: int) -> dict:
    rng = random.Random(seed)
    t = ClassClient(url, "teacher")
    await t.connect()
    await t.rerun(page="live_class", timeout=timeout)
    await t.rerun([trigger(t.key("live_start"))], timeout=timeout)
    code = t.metrics.get("Join code", "")
    if not re.fullmatch(r"[A-Z0-9]{6}", code):
        raise RuntimeError(f"no join code: {t.texts[:5]}")
    t.foreign = {f"Stu{j:02d}x": f"student {j}" for j in range(n)}  # the control: the teacher sees every nickname
    lat, answers, errors, seen, stop = [], [], [], [], asyncio.Event()
    watcher = asyncio.create_task(teacher_loop(t, stop, seen, errors, timeout))

    async def delayed(i):
        await asyncio.sleep(i * 0.2)  # a class arrives over a few seconds
        return await student(i, url, code, n, questions, lat, answers, errors, timeout, random.Random(seed + i))
    clients = await asyncio.gather(*(delayed(i) for i in range(n)))
    await asyncio.sleep(4)  # the dashboard catches up
    stop.set()
    await watcher
    errors += [f"{c.name}: {e}" for c in (*clients, t) for e in c.exceptions]
    errors += [f"{c.name}: disconnected" for c in (*clients, t) if c.closed]
    leaks = [leak for c in clients for leak in c.leaks]
    for c in (*clients, t):
        await c.close()
    lag = lags(answers, seen)
    return {"students": n, "p95_s": pct(lat, 0.95), "lag_p95_s": pct(lag, 0.95) if lag else float("inf"),
            "errors": errors, "leaks": leaks, "answers": len(answers), "refreshes": len(seen),
            "control": len({leak.split("'")[1] for leak in t.leaks}),
            "fragment_runs": sum(getattr(c, "fragment_runs", 0) for c in clients)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=30, help="students")
    ap.add_argument("--questions", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--url", default=None, help="a running app (default: start one on a temporary class store)")
    a = ap.parse_args(argv)
    proc = None
    url = a.url
    if url is None:
        db = Path(tempfile.mkdtemp(prefix="class_load.")) / "classes.sqlite3"
        proc, url = start_server(env={"CNNVIZ_CLASS_DB": str(db)})
    try:
        r = asyncio.run(drive(url, a.n, a.questions, a.timeout, a.seed))
    finally:
        if proc is not None:
            stop_server(proc)
    for line in (r["errors"][:10] + r["leaks"][:10]):
        print(line, file=sys.stderr)
    print(f"answers {r['answers']}, dashboard refreshes {r['refreshes']}, students' own page refreshes "
          f"{r['fragment_runs']}; control: the teacher's dashboard showed "
          f"{r['control']} of {r['students']} nicknames (the leak check reads the same texts and tables)")
    print(f"class_load: students {r['students']}, p95_s {r['p95_s']:.2f}, dashboard_lag_p95_s {r['lag_p95_s']:.2f}, "
          f"errors {len(r['errors'])}, leaked {len(r['leaks'])}")


if __name__ == "__main__":
    main()
