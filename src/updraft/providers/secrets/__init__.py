"""Secrets backends shipped with updraft (``[secrets] backend``)."""
