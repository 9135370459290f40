"""The test suite, in tiers that follow the code.

Tiers: ``unit/`` (SQLite, no services), ``integration/`` (PostgreSQL, Redis with
real RQ workers, an S3 endpoint), ``browser/`` (headless Chromium), and
``scorers/`` (the scorers package on its own). A test's tier is set by its
markers (``databases``, ``redis``, ``s3``, ``browser``), never by its folder.

Inside each tier, a test file names the module it tests, so the test of any
module is found without searching:

- ``app/services/<domain>/<module>.py`` -> ``<tier>/<domain>/test_<module>.py``
  (competitions, certification, runs, datasets, suggestions);
- ``app/services/<module>.py`` (storage, queue, accounts, markdown, errors,
  home) -> ``<tier>/test_<module>.py``;
- ``demo/<module>.py`` -> ``<tier>/demo/test_<module>.py``; ``workers/`` and
  ``app/cli/`` likewise under ``workers/`` and ``cli/``;
- the pages and API of one domain sit in that domain's folder, named after the
  view module: ``test_routes.py`` (``app/<domain>/routes.py``), ``test_api.py``
  (``app/api/<domain>.py``), ``test_organiser.py``, ``test_direct_uploads.py``;
  the API's own modules under ``api/`` (``app/api/auth.py``, ``schemas.py``);
- a module tested from several angles gets ``test_<module>_<aspect>.py``
  (``competitions/test_submissions_limits.py``);
- what crosses domains (sessions, roles, rate limits, security headers, input
  guards, configuration, the client, the whole competition loop, faults,
  migrations, crawls) stays at the tier's top.

Every folder is a package (an ``__init__.py``), so two tiers or two domains may
hold files of the same name (``unit/runs/test_charts.py`` and
``unit/competitions/test_charts.py``). Fixtures shared by every tier live in
``conftest.py``; helpers that build users, tokens and bundles in ``helpers.py``;
the service probes in ``services.py``.
"""
