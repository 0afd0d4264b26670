"""The application layer: what the commands do, as functions above the segments, engines and reports they
combine. `commands`: `fthc segment`, `assign`, `explain` and `track` (check the output paths before any work, fit or
score, write every result atomically); `offer`: `fthc offer`; `segment_setup`: `fthc segment`'s options into its
Segmenter; `scoring`: `assign` on any engine; `quickstart`: `fthc quickstart` in its steps; `grid_jobs`: `init-db`,
`status`, `reset`, `export` and `report` on a store; `default_data`: synthetic Berka where no data is given;
`spark_jobs`: the Spark jobs of `assign --engine spark` and `data sample`. The CLI (`fthc.cli`) parses and prints;
everything it runs is here."""
