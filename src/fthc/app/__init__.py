"""The application layer: what the commands do, as functions above the segments, engines and reports they
combine. `commands`: `fthc segment`, `assign` and `explain` (check the output paths before any work, fit or score,
write every result atomically); `spark_jobs`: the Spark jobs of `assign --engine spark` and `data sample`. The CLI
(`fthc.cli`) parses and prints; everything it runs is here."""
