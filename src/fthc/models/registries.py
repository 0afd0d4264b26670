"""The encoders' registry: what turns customers into the points a head clusters. It is declared here, apart from
the encoders, so that choosing the behaviour-feature encoder never imports PyTorch (the network encoders are
imported the first time one of them is asked for)."""

from __future__ import annotations

from ..registry import Registry

ENCODERS: Registry = Registry("encoder", flags={
    "trains_network": True,  # fits a neural network (saved as weights.pt; takes the pretext options)
    "input": "series",  # series: a SeriesSet built from the transactions; behaviour: the behaviour measures
}, lazy=("fthc.models.feature_encoder", "fthc.models.encoders", "fthc.models.contrastive"))

PRECISIONS = ("auto", "fp32", "bf16")  # how a network computes (auto: bf16 where the hardware has it natively)


class CustomerInputs:
    """What an encoder that reads both may be given about the same customers, in the same order: their series
    (a SeriesSet, or the model inputs made of it) and their behaviour measures (`fthc.features.measures`)."""

    def __init__(self, series, behaviour):
        if len(series) != len(behaviour):
            raise ValueError(f"{len(series)} series but {len(behaviour)} rows of behaviour measures")
        self.series, self.behaviour = series, behaviour

    def __len__(self) -> int:
        return len(self.behaviour)

    def subset(self, index) -> "CustomerInputs":
        import numpy as np

        return CustomerInputs(self.series.subset(index), self.behaviour.iloc[np.asarray(index)])

    # the series' spec, scaling and channels, which a fitted model records
    spec = property(lambda self: getattr(self.series, "spec", None))
    scaling = property(lambda self: getattr(self.series, "scaling", None))
    channels = property(lambda self: getattr(self.series, "channels", None))
