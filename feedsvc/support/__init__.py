"""Helpers that know nothing of feedsvc: atomic files, locks, workers, dates."""
