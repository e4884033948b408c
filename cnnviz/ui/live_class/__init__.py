"""The Live class page and the live class on every page: ``panels`` (join, start, the teacher's view: code, time
left, who is where, answers, Reveal, Bring the class here, End), ``board`` (the class's runs and drawings, the
teacher only), ``banner`` (the student's panel and the banner to follow the teacher on every page), ``work`` (the
Training Lab's and the Network Explorer's one call each: a finished run, a shared drawing)."""
from cnnviz.ui.live_class.panels import (COOKIES, DASHBOARD_S, PAIR, STUDENT, TEACHER, beat, class_answer,
                                         client_address, dashboard, engine, forget, join_panel, question_title,
                                         quiz_class, record_answer, start_panel, student, teacher, teacher_panel, time_left)
from cnnviz.ui.live_class.banner import BANNER_S, BEAT_S, FOLLOW, POLL_S, class_bar, follow, still_here, \
    student_panel
from cnnviz.ui.live_class.board import class_work
from cnnviz.ui.live_class.work import record_run, share_drawing

__all__ = ["COOKIES", "DASHBOARD_S", "PAIR", "STUDENT", "TEACHER", "beat", "class_answer", "client_address",
           "dashboard", "engine", "forget", "join_panel", "question_title", "quiz_class", "record_answer",
           "start_panel", "student", "teacher", "teacher_panel", "time_left", "BANNER_S", "BEAT_S", "FOLLOW",
           "POLL_S", "class_bar", "follow", "still_here", "student_panel", "class_work", "record_run", "share_drawing"]
