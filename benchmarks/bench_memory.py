"""Memory that grows linearly: the DTC layer's initialisation against the reference's complete linkage on every
customer, at growing numbers of customers.

    python benchmarks/bench_memory.py                          # 5,000, 20,000 and 80,000 customers
    python benchmarks/bench_memory.py --customers 5000 20000 --distances eucl cid

The reference initialises DTC by complete-linkage clustering of every fitted customer's latent series, which
keeps n^2 / 2 distances (1.6 GB at 20,000 customers, 26 GB at 80,000). fthc runs the linkage on a seeded sample
of LINKAGE_SAMPLE customers and gives every customer the nearest of the sample's cluster means. Each case runs in
its own process; the table shows its seconds and the peak resident memory it added above the process's memory
before the call (VmHWM), for a latent of 20 steps x 2 channels (DTC's temporal latent) at k = 6. The full linkage
is not run where its distances alone would exceed --max-full-gb. The whole `fthc segment` command's memory at
40,000 and 400,000 customers (the segment page's charts included) is in bench_scale.py.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from memory import peak_mb, rss_mb


def one_case(method: str, n: int, distance: str) -> dict:
    import numpy as np
    import torch
    from scipy.cluster.hierarchy import fcluster, linkage

    from fthc.clustering.distances import condensed
    from fthc.clustering.dtc import complete_linkage_labels

    z = torch.as_tensor(np.random.default_rng(0).normal(size=(n, 20, 2)), dtype=torch.float32)
    before = rss_mb()
    start = time.perf_counter()
    if method == "fthc":
        labels = complete_linkage_labels(z, 6, distance, np.random.default_rng(0))
    else:
        labels = fcluster(linkage(condensed(z, distance), method="complete"), t=6, criterion="maxclust") - 1
    seconds = time.perf_counter() - start
    assert len(labels) == n
    return {"seconds": seconds, "added_mb": peak_mb() - before}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, nargs="+", default=[5_000, 20_000, 80_000])
    parser.add_argument("--distances", nargs="+", default=["eucl"], choices=["eucl", "cid", "cor"])
    parser.add_argument("--max-full-gb", type=float, default=4.0)
    parser.add_argument("--case", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(one_case(args.case[0], int(args.case[1]), args.case[2])))
        return

    from rich.console import Console
    from rich.table import Table

    from fthc.clustering.dtc import LINKAGE_SAMPLE

    table = Table(title=f"DTC initialisation, latent 20 x 2, k = 6 (fthc: linkage on {LINKAGE_SAMPLE:,} sampled)")
    for col in ("customers", "distance", "what", "seconds", "added peak MB"):
        table.add_column(col, justify="right" if col in ("customers", "seconds", "added peak MB") else "left")
    for distance in args.distances:
        for n in args.customers:
            for method, name in (("reference", "complete linkage on every customer"),
                                 ("fthc", "fthc: sampled linkage, nearest mean")):
                full_gb = n * (n - 1) / 2 * 8 / 1e9
                if method == "reference" and full_gb > args.max_full_gb:
                    table.add_row(f"{n:,}", distance, name, "not run", f"distances alone {full_gb * 1000:,.0f}")
                    continue
                done = subprocess.run([sys.executable, __file__, "--case", method, str(n), distance],
                                      capture_output=True, text=True, check=True)
                got = json.loads(done.stdout.strip().splitlines()[-1])
                table.add_row(f"{n:,}", distance, name, f"{got['seconds']:.1f}", f"{got['added_mb']:,.0f}")
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
