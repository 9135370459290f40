"""Certification as a labelling task: the workflow (``workflow``: certify, edit, review, claim, reference runs,
checklists), who reviews (``reviewers``), agreement between copies (``agreement``), shift reports
(``reports``) and golden JSON lumimasks (``lumimask``).

May import app.models, app.extensions and the shared services; runs and suggestions for what a run holds.
"""
