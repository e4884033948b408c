"""Classroom: generated quiz questions whose answers come from the geometry engine, and the Lessons path.

The Quiz and Lessons pages' room. May import: cnnviz.errors, cnnviz.geometry."""
from cnnviz.classroom.lessons import LESSONS
from cnnviz.classroom.quiz import (KINDS, EXTRA_KINDS, DIFFICULTIES, Question, make_quiz)

__all__ = ["LESSONS", "KINDS", "EXTRA_KINDS", "DIFFICULTIES", "Question", "make_quiz"]
