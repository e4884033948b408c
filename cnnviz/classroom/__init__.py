"""Classroom: generated quiz questions whose answers come from the geometry engine (the Dice kind's from the
metrics engine), and the Lessons path.

The Quiz and Lessons pages' room. May import: cnnviz.errors, cnnviz.geometry, cnnviz.metrics."""
from cnnviz.classroom.lessons import LESSONS
from cnnviz.classroom.quiz import (KINDS, EXTRA_KINDS, OPT_IN_KINDS, DIFFICULTIES, Question, make_quiz)

__all__ = ["LESSONS", "KINDS", "EXTRA_KINDS", "OPT_IN_KINDS", "DIFFICULTIES", "Question", "make_quiz"]
