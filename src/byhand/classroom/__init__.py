"""A class in session: join codes, a variant per student, a live dashboard, a gradebook.

    schema.py      the tables: classes, students, exercises, submissions
    db.py          the database: a URL (SQLite by default, PostgreSQL), WAL, migrations
    grading.py     one submission graded by the practice checker
    service.py     what a teacher and a student can do, each in one transaction
    rates.py       request budgets (token buckets) kept in the database, for every process

The web layer (byhand.web.classes) adds the HTTP routes, the pages and the rate limit.
"""
