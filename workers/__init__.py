"""Background jobs: the RQ worker entry point and the job functions it runs."""
