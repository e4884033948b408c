"""Classroom: generated quiz questions whose answers come from the geometry engine.

The Quiz and Lessons pages' room. May import: cnnviz.errors, cnnviz.geometry."""
from cnnviz.classroom.quiz import (KINDS, EXTRA_KINDS, DIFFICULTIES, Question, make_quiz)

__all__ = ["KINDS", "EXTRA_KINDS", "DIFFICULTIES", "Question", "make_quiz"]
