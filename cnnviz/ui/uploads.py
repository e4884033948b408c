"""The upload blocks the model and training pages share: a checkpoint uploader (Feature Maps, Network
Explorer), the uploaded-model cache, and a ZIP data set decoded off the page's script thread with a progress
bar, kept in a cache bounded in entries, bytes and age (:mod:`cnnviz.io.budgets`). Every refusal is a
ConfigError the page shows with ``show_error``."""
from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor

import streamlit as st

from cnnviz.inside.shipped import load_uploaded
from cnnviz.io import budgets
from cnnviz.io.cache import BoundedCache
from cnnviz.io.uploads import load_zip
from cnnviz.training.checkpoint import check_resume

CHECKPOINT_TYPES = ["pt", "pth", "ckpt"]
CHECKPOINT_HELP = (f"Loaded with torch.load(weights_only=True): tensors only, never code. At most "
                   f"{budgets.CHECKPOINT_FILE_BYTES // budgets.MiB} MiB, unpacking to at most "
                   f"{budgets.CHECKPOINT_DECODED_BYTES // budgets.MiB} MiB; its model description is checked "
                   "against its weights.")

# The uploaded model, checked and built once per file: few entries, and they expire.
uploaded_model = st.cache_resource(max_entries=budgets.MODEL_CACHE_ENTRIES, ttl=budgets.MODEL_CACHE_TTL_S,
                                   show_spinner="Checking the checkpoint…")(load_uploaded)


def checkpoint_upload(col, key: str, purpose: str) -> tuple[bytes, str]:
    """The checkpoint uploader: ``(bytes, file name)``; stops the page with a hint while nothing is uploaded."""
    up = col.file_uploader("Checkpoint", type=CHECKPOINT_TYPES, key=key, help=CHECKPOINT_HELP,
                            max_upload_size=budgets.CHECKPOINT_UPLOAD_MB)
    if up is None:
        st.info(f"Upload a checkpoint file to {purpose}.", icon=":material/upload_file:")
        st.stop()
    return up.getvalue(), up.name


@st.cache_resource(show_spinner=False)  # one per server process: a thread-safe store, not page state
def _datasets() -> BoundedCache:
    return BoundedCache(budgets.UPLOAD_CACHE_ENTRIES, budgets.UPLOAD_CACHE_BYTES, budgets.UPLOAD_CACHE_TTL_S)


@st.cache_resource(show_spinner=False)
def _decoders() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=budgets.DECODE_WORKERS, thread_name_prefix="cnnviz-decode")


def zip_dataset(data: bytes, size: int = 32):
    """The uploaded ZIP as a Dataset: from the bounded cache, or decoded in a worker thread while the page shows
    its progress (the headers are checked first: a bomb is refused in well under a second)."""
    key = (hashlib.sha256(data).hexdigest(), size)
    cache = _datasets()
    ds = cache.get(key)
    if ds is not None:
        return ds
    state = {"frac": 0.0, "text": "Checking the ZIP…"}

    def work():
        out = load_zip(data, size, progress=lambda frac, text: state.update(frac=frac, text=text))
        cache.put(key, out)  # kept even if the page rerun before the decoding ended
        return out

    job = _decoders().submit(work)
    bar = st.progress(0.0, text=state["text"])
    while not job.done():
        bar.progress(min(max(float(state["frac"]), 0.0), 1.0), text=state["text"])
        time.sleep(0.1)
    bar.empty()
    return job.result()  # ConfigError from the worker is raised here, on the page's thread


@st.cache_data(max_entries=budgets.MODEL_CACHE_ENTRIES, ttl=budgets.MODEL_CACHE_TTL_S,
               show_spinner="Checking the checkpoint…")
def resume_file(data: bytes) -> bool:
    """True for a checkpoint the Training Lab can resume (validated once per file); ConfigError otherwise."""
    check_resume(data)
    return True
