"""CoLES through pytorch-lifestream (the field's reference implementation), for bench_quality's comparison row.

ptls 0.7.0's `ptls.preprocessing` fails to import without `dask[distributed]` and a subpackage its wheel lacks,
so the per-customer records are built here directly: one dict of arrays per customer, in time order, with the
transaction kind (categorical), the signed log amount and the signed log balance. The encoder is a GRU over
ptls' TrxEncoder, trained with CoLES's own module (random slices of one history are positives, contrastive
loss with hard-negative pair sampling), then k-means on the customers' embeddings of their whole histories.

    pip install -e ".[bench]"      # pytorch-lifestream; keeps torch at the pinned 2.13.0
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import torch


def available() -> bool:
    try:
        import ptls.frames.coles  # noqa: F401
        import pytorch_lightning  # noqa: F401
    except ImportError:
        return False
    return True


def records(tx: pd.DataFrame) -> tuple[np.ndarray, list[dict]]:
    """Customer ids and one ptls feature dict per customer (event_time in days, kind code >= 1, amounts)."""
    tx = tx.sort_values(["customer_id", "timestamp"], kind="stable")
    days = (tx["timestamp"] - pd.Timestamp("1990-01-01")).dt.days.to_numpy(np.float32)
    kind = tx["kind"].cat.codes.to_numpy(np.int64) + 1  # 0 is ptls' padding
    amount = (np.sign(tx["amount"]) * np.log1p(tx["amount"].abs())).to_numpy(np.float32)
    balance = (np.sign(tx["balance"]) * np.log1p(tx["balance"].abs())).to_numpy(np.float32)
    ids, starts = np.unique(tx["customer_id"].to_numpy(), return_index=True)
    bounds = list(starts[1:]) + [len(tx)]
    out = [{"event_time": torch.from_numpy(days[a:b]), "kind": torch.from_numpy(kind[a:b]),
            "amount": torch.from_numpy(amount[a:b]), "balance": torch.from_numpy(balance[a:b])}
           for a, b in zip(starts, bounds)]
    return ids, out


def coles_embeddings(tx: pd.DataFrame, seed: int, hidden: int = 64, epochs: int = 12,
                     batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(customer ids, embeddings) of a CoLES GRU trained on `tx`, ptls' demo settings scaled to this data."""
    import pytorch_lightning as pl
    from ptls.data_load.utils import collate_feature_dict
    from ptls.frames import PtlsDataModule
    from ptls.frames.coles import CoLESModule, ColesDataset
    from ptls.frames.coles.split_strategy import SampleSlices
    from ptls.nn import RnnSeqEncoder, TrxEncoder

    pl.seed_everything(seed, workers=True)  # SampleSlices draws from numpy's global generator
    ids, data = records(tx)
    n_kinds = int(tx["kind"].cat.categories.size) + 1
    trx = TrxEncoder(embeddings={"kind": {"in": n_kinds, "out": 8}},
                     numeric_values={"amount": "identity", "balance": "identity"}, embeddings_noise=0.003)
    encoder = RnnSeqEncoder(trx_encoder=trx, hidden_size=hidden, type="gru")
    module = CoLESModule(seq_encoder=encoder, optimizer_partial=partial(torch.optim.Adam, lr=1e-3),
                         lr_scheduler_partial=partial(torch.optim.lr_scheduler.StepLR, step_size=30, gamma=0.9))
    train = ColesDataset(data, splitter=SampleSlices(split_count=5, cnt_min=15, cnt_max=150))
    dm = PtlsDataModule(train_data=train, train_batch_size=batch_size, train_num_workers=0)
    trainer = pl.Trainer(max_epochs=epochs, accelerator="cpu", devices=1, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         deterministic=True)
    trainer.fit(module, dm)
    encoder.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(data), 256):
            out.append(encoder(collate_feature_dict(data[i:i + 256])).numpy())
    return ids, np.vstack(out)
