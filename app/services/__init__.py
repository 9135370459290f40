"""Plain services used by the views and the workers: storage, queue and friends."""
