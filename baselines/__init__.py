"""Runnable baselines: download a competition's data, train, write a submission, submit and wait for the score."""
