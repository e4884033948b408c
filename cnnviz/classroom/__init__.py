"""Classroom: generated quiz questions whose answers come from the geometry engine (the Dice kind's from the
metrics engine), the Lessons path, and the live class (``live``: join codes, the teacher's view, a small store).

The Quiz, Lessons and Live class pages' room. May import: cnnviz.errors, cnnviz.geometry, cnnviz.metrics."""
from cnnviz.classroom.lessons import LESSONS
from cnnviz.classroom.live import ClassView, Joined, LiveClasses, Started, open_store
from cnnviz.classroom.quiz import (KINDS, EXTRA_KINDS, OPT_IN_KINDS, DIFFICULTIES, Question, make_quiz)

__all__ = ["LESSONS", "KINDS", "EXTRA_KINDS", "OPT_IN_KINDS", "DIFFICULTIES", "Question", "make_quiz",
           "LiveClasses", "Started", "Joined", "ClassView", "open_store"]
