"""Lessons: the app's pages in teaching order, each step a link that opens the page with a prepared example."""
import cnnviz.warm  # noqa: F401 - first: heavy libraries imported once, one session at a time
import streamlit as st

from cnnviz.classroom.lessons import LESSONS
from cnnviz.ui import page_setup

page_setup()  # a deep link to a fresh server goes through app.py

st.title("Lessons")
st.caption("A path through the app for a class: open each step, try what it says, notice what changes. "
           "Each link opens the page with the example already set.")
for number, (title, page, icon, params, text) in enumerate(LESSONS, 1):
    with st.container(border=True):
        st.subheader(f"{number} · {title}")
        st.markdown(text)
        st.page_link(page, label=f"Open: {title}", icon=icon, query_params=params,
                     help="Opens the page with this step's example set.")
