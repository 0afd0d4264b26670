"""Experiment grid: configurations and results in a database, run by any number of workers."""
