"""`fthc assign` on any engine: a saved model's assignments written here (a CSV or Parquet file) or, with the
spark engine, on Spark's executors (a Parquet folder partitioned by segment)."""

from __future__ import annotations

from pathlib import Path


def assign_customers(model_dir: Path, data, out: Path, mapping=None, lenient: bool = False, engine: str = "duckdb",
                     master: str | None = None) -> dict:
    """Score the customers of `data` with the saved model on `engine` ('local': duckdb, the name of earlier
    versions); returns the customers and the engine, with Spark's seconds and master."""
    engine = "duckdb" if engine == "local" else engine
    if engine == "spark":
        from .spark_jobs import assign_spark

        r = assign_spark(model_dir, data, out, mapping, master=master, lenient=lenient)
        return {"engine": engine, "customers": r["customers"], "seconds": r["seconds"],
                "master": r.get("master") or master}
    from .commands import assign

    return {"engine": engine, "customers": len(assign(model_dir, data, out, mapping, lenient, engine=engine))}
