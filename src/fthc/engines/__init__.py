"""Engines that run fthc's data-parallel stages beyond one process (Spark)."""
