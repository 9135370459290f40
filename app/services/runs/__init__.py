"""Runs and what was recorded in them: importing runs and their per-lumisection conditions (``importer``) from
OMS files or the OMS API (``sources``, ``oms``), their monitoring elements (``monitoring_elements``) and the
charts of a run along its lumisections (``charts``).

May import app.models, app.extensions, the shared services and certification's lumimasks (golden and
DCS-only JSON); nothing of competitions or datasets.
"""
