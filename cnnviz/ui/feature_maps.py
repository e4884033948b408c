"""The Feature Maps page's cache: one loaded model per shipped key, shared read-only by every session."""
from __future__ import annotations

import streamlit as st

from cnnviz.inside.shipped import load_model

load = st.cache_resource(load_model)
