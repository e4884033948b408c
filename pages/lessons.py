"""Lessons: the app's pages in teaching order, each step a link that opens the page with a prepared example and the
step's banner (lesson mode); a route picker (the full path or a 45-minute class) with each step's minutes."""
import cnnviz.warm  # noqa: F401 - first: heavy libraries imported once, one session at a time
import streamlit as st

from cnnviz.classroom.lessons import LESSONS, ROUTES, route_minutes, route_steps
from cnnviz.ui import PageState, Setting
from cnnviz.ui.lesson_banner import lesson_query, lessons_step, own_query_only, scroll_to

S = PageState("lessons", dict(route=Setting("full", "Route", "The full path, or the steps that fit one 45-minute "
                                            "class (one or two per topic).", options=tuple(ROUTES), widget="radio")))
here = lessons_step()  # ?step=N: back from step N's banner (All steps)

st.title("Lessons")
st.caption("A path through the app for a class: open each step, try what it says, notice what changes. "
           "Each link opens the page with the example already set and the step above it, with Previous / Next "
           "(or the ← → keys).")
S.show_notices()
route = S.widget("route", horizontal=True, format_func=lambda r: f"{ROUTES[r][0]} · {route_minutes(r)} min")
steps = route_steps(route)
st.caption(f"{len(steps)} steps, {route_minutes(route)} minutes in all.")
for number in steps:
    step = LESSONS[number - 1]
    with st.container(border=True, key=f"lessons_step_{number}"):
        st.subheader(f"{number} · {step.title}", anchor=f"step-{number}")
        st.caption(f"{step.minutes} min" + (" · you came back from this step" if number == here else ""))
        st.markdown(step.text)
        st.page_link(step.page, label=f"Open: {step.title}", icon=step.icon, query_params=lesson_query(number, route),
                     help="Opens the page with this step's example set and the step's banner above it.")
if here is not None and here in steps:
    scroll_to(f"step-{here}")
S.sync_url()
if here is not None:
    st.query_params["step"] = str(here)
own_query_only()  # only the Lessons page's own state in its URL, never the last page's settings
