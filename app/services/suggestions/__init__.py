"""Model suggestions in labelling tasks (the loop): sources of per-lumisection scores, suggested ranges, the
queue orders that follow the models, the blind audit, and honest measures of models and shifters.

Owns the models of app.models.suggestions and the suggestion columns of tasks, certifications and bad ranges.
May import app.models, app.extensions, app.services.errors, app.services.storage and scorers; never pages, the
API or workers. The pure cores (ranges, ordering, blind, measures, source_files) are Flask-free and work on
plain data; store reads and writes the database within the caller's transaction.
"""
