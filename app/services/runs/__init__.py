"""Runs and what was recorded in them: reading OMS files and the OMS API (``documents``, ``sources``, ``oms``),
writing runs and their per-lumisection conditions (``importer``: labelling tasks with an open range gain the
new runs), their monitoring elements (``monitoring_elements`` reads dumps, ``element_store`` stores them by run
and reads them back), the Run Registry's tracker ranges of runs
(``run_registry``; both API clients share ``api_client``), a run's certification beside them (``rr_compare``), a
task's approved certifications written to RR (``rr_push``), the charts of a run along its lumisections
(``charts``) and luminosity in the unit that reads well (``luminosity``).

May import app.models, app.extensions, the shared services, certification's lumimasks (golden and DCS-only
JSON) and suggestions.live_jobs (live competitions follow imports); nothing of competitions or datasets.
"""
