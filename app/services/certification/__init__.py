"""Certification as a labelling task: the workflow (``workflow``: certify, edit, review, reference runs, the
golden JSON), labelling tasks and their checklists (``tasks``), the shifter's queue (``queue``: who may certify a
run, which run comes next, runs sent back, claims), reads for the pages and the API (``queries``: certifications
by run, task progress), who reviews (``reviewers``), agreement between copies (``agreement``), shift reports
(``reports``), golden JSON lumimasks (``lumimask``), the run's monitoring elements on the certification page
(``cockpit``) and the lumisection a selected one is compared with (``references``).

May import app.models, app.extensions and the shared services; runs and suggestions for what a run holds and the
order a task offers its runs in.
"""
