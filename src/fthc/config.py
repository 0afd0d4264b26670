"""One frozen, typed config per clusterer (like nanoGPT's GPTConfig); its dict is the key stored in a database.

Which combinations are valid is read from the registries' capability flags (`validate`, `valid_configs`).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Iterator

from .clustering import DISTANCES, HEADS, REDUCTIONS
from .errors import IncompatibleConfigError, UnknownComponentError
from .models import AUTOENCODERS, EMBEDDINGS, ENCODERS, PRETEXT_LOSSES
from .models.precision import PRECISIONS


@dataclass(frozen=True)
class ClustererConfig:
    """Everything that determines a fitted clusterer, given the data and the seed."""

    autoencoder: str = "resnet"  # fcnn | resnet | lstm | dtc
    pretext: str = "mse"  # mse | multi_rec | vae
    embedding: str | None = None  # identity | vector | vae; None: the natural one for autoencoder + pretext
    clustering: str = "dtc"  # kmeans | dtc
    distance: str = "eucl"  # eucl | cid | cor (dtc only)
    reduction: str = "none"  # none | pca | umap (kmeans only)
    k: int = 4
    latent_dim: int = 10
    reduced_dim: int = 5
    pretrain_batches: int = 1000
    batch_size: int = 32
    lr: float = 1e-3
    dtc_batches: int = 100
    dtc_lr: float = 1e-5
    dtc_update_interval: int = 50  # batches between refreshes of the target distribution (one latent pass each)
    dtc_recon_weight: float = 1.0
    alpha: float = 1.0  # Student's t degrees of freedom
    init: str = "robust"  # complete (the reference) | robust | kmeans++
    max_restarts: int = 2  # DTC retries from a new initialisation when it collapses
    vae_beta: float = 1.0
    feature_weight: float = 0.0  # contrastive encoder: share of the latent's variance given to behaviour features
    arch: dict[str, Any] = field(default_factory=dict)  # architecture size overrides, e.g. {"filters": 16}
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    precision: str = "auto"  # auto | fp32 | bf16: the networks' forward passes (auto: bf16 where native)

    def __post_init__(self) -> None:
        if self.embedding is None:
            object.__setattr__(self, "embedding", default_embedding(self.autoencoder, self.pretext))
        # JSON-canonical (tuples become lists), so a config read back from a store or artefact compares equal
        object.__setattr__(self, "arch", json.loads(json.dumps(dict(sorted(self.arch.items())))))

    def __hash__(self) -> int:
        return hash(self.key())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ClustererConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise IncompatibleConfigError(f"unknown config fields {sorted(unknown)}; valid: {sorted(known)}")
        return cls(**data)

    def key(self) -> str:
        """Canonical JSON of the fields that define the model. Where it runs does not: the device, and the
        precision (bf16 gives the same quality as fp32, measured; each run records the precision it used)."""
        d = self.to_dict()
        d.pop("device")
        d.pop("precision")
        return json.dumps(d, sort_keys=True, separators=(",", ":"))

    def replace(self, **changes: Any) -> "ClustererConfig":
        if "autoencoder" in changes or "pretext" in changes:
            changes.setdefault("embedding", None)
        return replace(self, **changes)

    def validate(self) -> "ClustererConfig":
        """Raise UnknownComponentError or IncompatibleConfigError before any training."""
        ae = AUTOENCODERS.get(self.autoencoder)
        emb = EMBEDDINGS.get(self.embedding)
        pre = PRETEXT_LOSSES.get(self.pretext)
        clu = HEADS.get(self.clustering)
        DISTANCES.get(self.distance)
        REDUCTIONS.get(self.reduction)
        problems = []
        if pre.flag("needs_layer_pairs") and not ae.flag("supports_multi_rec"):
            problems.append(f"pretext {self.pretext!r} needs mirrored layers, which the recurrent "
                            f"{self.autoencoder!r} autoencoder does not have")
        if pre.flag("needs_decoder") and not ae.flag("has_decoder"):
            problems.append(f"the {self.autoencoder!r} encoder has no decoder: it trains with a contrastive pretext, "
                            f"not {self.pretext!r}")
        if pre.flag("needs_variable_length") and not ae.flag("variable_length"):
            problems.append(f"pretext {self.pretext!r} trains on sub-histories, which the fixed-length "
                            f"{self.autoencoder!r} autoencoder cannot take")
        if pre.flag("needs_variational") != emb.flag("variational"):
            problems.append(f"pretext {self.pretext!r} and embedding {self.embedding!r} do not match "
                            "(the vae loss needs the vae embedding and vice versa)")
        if emb.flag("variational") and not ae.flag("supports_vae"):
            problems.append(f"the {self.autoencoder!r} autoencoder does not support a variational embedding")
        if emb.flag("requires_native_latent") and not ae.flag("native_latent"):
            problems.append(f"embedding {self.embedding!r} needs an autoencoder that outputs its latent itself")
        if ae.flag("temporal_latent") and self.embedding != "identity":
            problems.append(f"the {self.autoencoder!r} autoencoder's latent is a time series: embedding "
                            "must be 'identity'")
        if clu.flag("refines_encoder") and not pre.flag("needs_decoder"):
            problems.append(f"clustering {self.clustering!r} fine-tunes the encoder with its reconstruction loss, "
                            f"which pretext {self.pretext!r} does not have")
        if not clu.flag("uses_distance") and self.distance != "eucl":
            problems.append(f"clustering {self.clustering!r} does not use a distance (got {self.distance!r})")
        if not clu.flag("uses_reduction") and self.reduction != "none":
            problems.append(f"clustering {self.clustering!r} does not use dimension reduction "
                            f"(got {self.reduction!r})")
        for name in ("k", "latent_dim", "reduced_dim", "batch_size"):
            if getattr(self, name) < (2 if name == "k" else 1):
                problems.append(f"{name} must be at least {2 if name == 'k' else 1}")
        if self.pretrain_batches < 0 or self.dtc_batches < 0:
            problems.append("training budgets cannot be negative")
        if self.precision not in PRECISIONS:
            problems.append(f"unknown precision {self.precision!r}; valid: {', '.join(PRECISIONS)}")
        if self.init not in ("complete", "robust", "kmeans++"):
            problems.append(f"unknown init {self.init!r}; valid: complete, robust, kmeans++")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            problems.append(f"unknown device {self.device!r}")
        if problems:
            raise IncompatibleConfigError("; ".join(problems))
        return self


def make_encoder(config: ClustererConfig):
    """The config's pretext encoder (unfitted), built by the ENCODERS factory."""
    c = config.validate()
    cls = ENCODERS.get(PRETEXT_LOSSES.get(c.pretext).flag("encoder")).build
    params = dict(autoencoder=c.autoencoder, pretext=c.pretext, embedding=c.embedding, latent_dim=c.latent_dim,
                  batches=c.pretrain_batches, batch_size=c.batch_size, lr=c.lr, vae_beta=c.vae_beta,
                  feature_weight=c.feature_weight, arch=dict(c.arch), seed=c.seed, device=c.device,
                  precision=c.precision)
    names = cls._get_param_names()
    return cls(**{k: v for k, v in params.items() if k in names})


HEAD_PARAMS = {  # head parameter -> config field; each head takes the ones its constructor names
    "k": "k", "reduction": "reduction", "reduced_dim": "reduced_dim", "alpha": "alpha", "seed": "seed",
    "distance": "distance", "init": "init", "max_restarts": "max_restarts", "batches": "dtc_batches",
    "lr": "dtc_lr", "update_interval": "dtc_update_interval", "recon_weight": "dtc_recon_weight",
    "batch_size": "batch_size",
}


def make_head(config: ClustererConfig, k: int | None = None):
    """The config's clustering head (unfitted), built by the HEADS factory; `k` overrides the config's."""
    c = config.validate()
    cls = HEADS.get(c.clustering).build
    names = cls._get_param_names()
    params = {name: getattr(c, field) for name, field in HEAD_PARAMS.items() if name in names}
    if k is not None:
        params["k"] = k
    return cls(**params)


def option_label(config: dict[str, Any]) -> str:
    """'kmeans/pca', 'dtc/cid': the head with the option that applies to it (read from its flags)."""
    head = HEADS.get(config["clustering"])
    option = (config["reduction"] if head.flag("uses_reduction") else
              config["distance"] if head.flag("uses_distance") else None)
    return f"{config['clustering']}/{option}" if option else config["clustering"]


def default_embedding(autoencoder: str, pretext: str) -> str:
    """The variational embedding for a variational pretext; none for an encoder with its own latent."""
    if pretext in PRETEXT_LOSSES and PRETEXT_LOSSES.get(pretext).flag("needs_variational"):
        return next(e.name for e in EMBEDDINGS if e.flag("variational"))
    if autoencoder in AUTOENCODERS and AUTOENCODERS.get(autoencoder).flag("native_latent"):
        return "identity"
    return "vector"


def valid_configs(base: ClustererConfig | None = None, *, ks=(4,), distances=None,
                  reductions=None) -> Iterator[ClustererConfig]:
    """Every valid combination of registered components (options that do not apply collapse)."""
    base = base or ClustererConfig()
    distances = distances or DISTANCES.names()
    reductions = reductions or REDUCTIONS.names()
    seen = set()
    for ae, pre, clu, k in itertools.product(AUTOENCODERS.names(), PRETEXT_LOSSES.names(), HEADS.names(), ks):
        uses_d = HEADS.get(clu).flag("uses_distance")
        uses_r = HEADS.get(clu).flag("uses_reduction")
        for dist, red in itertools.product(distances if uses_d else ["eucl"], reductions if uses_r else ["none"]):
            cfg = base.replace(autoencoder=ae, pretext=pre, clustering=clu, distance=dist, reduction=red, k=k)
            try:
                cfg.validate()
            except IncompatibleConfigError:
                continue
            if cfg.key() not in seen:
                seen.add(cfg.key())
                yield cfg


PRESETS: dict[str, dict[str, Any]] = {
    # the paper's best: ResNet autoencoder, MSE pretext, DTC layer with Euclidean distance
    "fthc": dict(autoencoder="resnet", pretext="mse", clustering="dtc", distance="eucl"),
    # the paper's baselines
    "dtc": dict(autoencoder="dtc", pretext="mse", clustering="dtc", distance="eucl"),
    "lstm": dict(autoencoder="lstm", pretext="mse", clustering="kmeans"),
    "fcnn": dict(autoencoder="fcnn", pretext="mse", clustering="kmeans"),
    "vae": dict(autoencoder="fcnn", pretext="vae", clustering="kmeans"),
    # this project's length-invariant encoder: pooled residual features, k-means on the latent space
    "pooled": dict(autoencoder="resnet_pool", pretext="mse", clustering="kmeans", arch={"filters": 32}),
    # behaviour features read off the events series (monthly rates of each kind, money in and out, income
    # regularity, balance), joined with a contrastive embedding (CoLES: GRU on random sub-histories, NT-Xent)
    # that has a fifth of the variance; k-means on the joint space
    "behaviour": dict(autoencoder="gru", pretext="contrastive", clustering="kmeans", latent_dim=32,
                      pretrain_batches=300, batch_size=64, lr=2e-3, feature_weight=0.8),
    # the behaviour features alone (no network is trained): on hard synthetic data as good as `behaviour`, in a
    # tenth of the time (benchmarks/bench_quality.py), so the default
    "features": dict(autoencoder="gru", pretext="contrastive", clustering="kmeans", latent_dim=32,
                     pretrain_batches=0, feature_weight=1.0),
}


# the series representation each preset is made for; the paper's presets use its per-customer z-scored amounts
PRESET_REPRESENTATIONS: dict[str, str] = {"behaviour": "events", "features": "events", "pooled": "events"}
DEFAULT_PRESET = "features"


def preset_representation(name: str) -> str:
    return PRESET_REPRESENTATIONS.get(name, "amounts")


def preset(name: str, **overrides: Any) -> ClustererConfig:
    """A named configuration, with any field overridden."""
    if name not in PRESETS:
        raise UnknownComponentError(f"unknown preset {name!r}; valid: {', '.join(PRESETS)}")
    return ClustererConfig(**{**PRESETS[name], **overrides}).validate()
