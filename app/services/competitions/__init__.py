"""Competitions: bundles (``bundles``, read by ``bundle_reader`` and checked by ``bundle_checks``), competitions
on a dataset version (``on_datasets``), who may compete (``eligibility``), submissions and their direct uploads
(``submissions``, ``uploads``), quotas (``quotas``), leaderboards and who sees what (``leaderboards``,
``visibility``), scores and bulk exports (``scores_export``, ``exports``), and their charts (``charts``).

May import app.models, app.extensions, scorers, the shared services and datasets (a competition on a dataset
version reads its files), and suggestions' pending (a live competition's first pending.csv); never
certification pages or workers (jobs are enqueued by dotted path).
"""
