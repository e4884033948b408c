"""Live class: the teacher starts a class (a join code), students join with the code and a nickname; the teacher
sees who is where and how the class answers, reveals answers, brings everyone to a page, and ends the class."""
import cnnviz.warm  # noqa: F401 - first: heavy libraries imported once, one session at a time
import streamlit as st

from cnnviz.ui import live_class as L
from cnnviz.ui import page_setup

page_setup()  # a deep link to a fresh server goes through app.py

st.title("Live class")
if (key := L.teacher()) is not None:
    L.teacher_panel(*key)
    L.class_work(*key)  # the class's runs and drawings
elif (joined := L.student()) is not None:
    L.student_panel(joined)
else:
    st.caption("No accounts, no e-mail: a code and a nickname. The class and everything in it are deleted when the "
               "teacher ends it, or after 3 hours.")
    join, start = st.columns(2, gap="large")
    L.join_panel(join)
    L.start_panel(start)
