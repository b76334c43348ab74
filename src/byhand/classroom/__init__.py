"""A class in session: join codes, a variant per student, a live dashboard, a gradebook.

schema.py      the tables: classes, students, exercises, submissions
db.py          the database: a URL (SQLite by default, PostgreSQL), WAL, migrations
grading.py     one submission graded by the practice checker
service.py     what a teacher and a student can do, on one connection at a time
ratelimit.py   how often one student may submit
"""
