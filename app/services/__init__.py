"""The platform's rules, apart from pages, the API and commands, which only call them.

Domains, each a package that says what it owns and what it may import:
- ``certification``: labelling tasks, certifications and their review, reference runs, reports, lumimasks,
  and the shifter's queue (who may certify a run, which run comes next, task progress);
- ``competitions``: bundles, submissions and their uploads, quotas, leaderboards, visibility, exports,
  competitions on a dataset version;
- ``datasets``: publishing approved labels as dataset versions, and reading them back for the pages;
- ``runs``: runs and their lumisections from OMS files or the API, and their monitoring elements;
- ``suggestions``: model suggestions in labelling tasks, and honest measures of models and shifters.

Shared by all, at the top: ``storage`` (files, local or S3), ``queue`` (jobs, RQ or threads), ``accounts``,
``sso`` (accounts of single sign-on and their roles from groups), ``markdown``, ``errors`` (``Refused``, the
one way to refuse) and ``home`` (what the home page shows).
Services import models, extensions, scorers and each other; never pages, the API or ``workers``.
"""
