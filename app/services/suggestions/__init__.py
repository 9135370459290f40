"""Model suggestions in labelling tasks (the loop): sources of per-lumisection scores, suggested ranges, the
queue orders that follow the models, the blind audit, and honest measures of models and shifters; live
predictions: a live competition's pending.csv (``pending``), live posts and the live leaderboard (``live``),
and live scores on labels approved after each post (``live_scoring``).

Owns the models of app.models.suggestions, the suggestion columns of tasks, certifications and bad ranges, and
live competitions' pending files. May import app.models, app.extensions, app.services.errors,
app.services.storage and scorers; the live modules also read datasets' publishing (the rows and columns of
test.csv, labels), certification's golden masks and competitions' eligibility and quotas. Never pages, the
API or workers. The pure cores (ranges, ordering, blind, measures, source_files) are Flask-free and work on
plain data; store reads and writes the database within the caller's transaction.
"""
