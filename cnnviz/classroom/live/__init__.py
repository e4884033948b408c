"""The live class: join codes, a teacher key, students' answers and presence, and the teacher's view, kept in a
small store (SQLite by default, Redis for replicas on several machines). See cnnviz.classroom.live.session."""
from cnnviz.classroom.live.address import JoinAddress, join_address, lan_address, qr_matrix, qr_svg, svg_modules
from cnnviz.classroom.live.limiter import JoinLimiter
from cnnviz.classroom.live.names import LIVE_PAGES, check_link, clean_code, nickname
from cnnviz.classroom.live.redis_store import RedisStore
from cnnviz.classroom.live.session import (AnswerCount, ClassView, Joined, LiveClasses, MyAnswer, Present, Pushed,
                                           QuestionView, Started, open_store)
from cnnviz.classroom.live.store import ClassStore, SQLiteStore, default_path
from cnnviz.classroom.live.work import RUN_SWITCHES, DrawingsView, DrawingView, RunView

__all__ = ["LiveClasses", "Started", "Joined", "MyAnswer", "AnswerCount", "QuestionView", "Present", "ClassView",
           "Pushed", "ClassStore", "SQLiteStore", "RedisStore", "open_store", "default_path", "JoinLimiter",
           "LIVE_PAGES", "check_link", "clean_code", "nickname", "JoinAddress", "join_address", "lan_address",
           "qr_matrix", "qr_svg", "svg_modules", "RunView", "DrawingView", "DrawingsView", "RUN_SWITCHES"]
