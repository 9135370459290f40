"""Datasets: publishing a labelling task's approved labels as a versioned dataset (``publishing``), split by run
(``splitting``, plain data) into the files of a version (``version_files``), and the reads the dataset pages
make of a published version (``queries``).

May import app.models, app.extensions, scorers, the shared services, certification (approved labels, golden
masks) and runs (monitoring elements, charts).
"""
