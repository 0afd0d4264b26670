"""One frozen, typed config per clusterer, split by component: `EncoderConfig` (network, pretext loss,
embedding, pretext training budget), `HeadConfig` (clustering, k, its options and fine-tuning budget), and where
it runs (seed, device, precision). Its flat dict is the row stored in a database and, like nanoGPT's GPTConfig,
serialises in one step; `make_encoder` and `make_head` build the components from their sections.

Which combinations are valid is read from the registries' capability flags (`validate`, `valid_configs`).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Iterator

from .clustering import HEADS, REDUCTIONS
from .errors import IncompatibleConfigError, UnknownComponentError
from .models.registries import ENCODERS, PRECISIONS


def _canonical(value: Any) -> Any:
    """JSON-canonical (sorted keys, tuples as lists), so a config read back from a store or artefact compares
    equal to the one written."""
    return json.loads(json.dumps(value, sort_keys=True))


@dataclass(frozen=True)
class EncoderConfig:
    """The pretext encoder: network, pretext loss, embedding, and its training budget. Runs that share it (and
    the seed) share one trained encoder: the grid's pretext stages, `--k auto`'s candidate heads."""

    autoencoder: str = "resnet"  # fcnn | resnet | lstm | dtc | resnet_pool | gru, or features (no network)
    pretext: str = "mse"  # mse | multi_rec | vae | contrastive; none for an encoder that trains no network
    embedding: str | None = None  # identity | vector | vae; None: the natural one for autoencoder + pretext
    latent_dim: int = 10
    arch: dict[str, Any] = field(default_factory=dict)  # architecture size overrides, e.g. {"filters": 16}
    vae_beta: float = 1.0
    feature_weight: float = 0.0  # contrastive encoder: share of the latent's variance given to behaviour features
    pretrain_batches: int = 1000
    batch_size: int = 32  # also the batch of a head that fine-tunes the encoder (DTC)
    lr: float = 1e-3

    def __post_init__(self) -> None:
        if self.embedding is None:
            object.__setattr__(self, "embedding", default_embedding(self.autoencoder, self.pretext))
        object.__setattr__(self, "arch", _canonical(dict(self.arch)))

    def __hash__(self) -> int:
        return hash(json.dumps(asdict(self), sort_keys=True))


@dataclass(frozen=True)
class HeadConfig:
    """The clustering head: k-means (after an optional reduction), a Gaussian mixture, or the DTC layer (with
    its distance and fine-tuning budget)."""

    clustering: str = "dtc"  # kmeans | dtc | gmm
    k: int = 4
    distance: str = "eucl"  # eucl | cid | cor (dtc only)
    reduction: str = "none"  # none | pca | umap (kmeans only)
    reduced_dim: int = 5
    alpha: float = 1.0  # Student's t degrees of freedom
    init: str = "robust"  # complete (the reference) | robust | kmeans++
    max_restarts: int = 2  # DTC retries from a new initialisation when it collapses
    dtc_batches: int = 100
    dtc_lr: float = 1e-5
    dtc_update_interval: int = 50  # batches between refreshes of the target distribution (one latent pass each)
    dtc_recon_weight: float = 1.0


SECTIONS: dict[str, type] = {"encoder": EncoderConfig, "head": HeadConfig}
SECTION_OF: dict[str, str] = {f.name: s for s, cls in SECTIONS.items() for f in fields(cls)}  # field -> section


@dataclass(frozen=True)
class ClustererConfig:
    """Everything that determines a fitted clusterer, given the data and the seed: the encoder's section, the
    head's, and where it runs. Its flat dict (every field by its own name) is the row a store keeps and the
    key of every stored run; `from_dict` reads that row, or a file written by section.

    Parameters
    ----------
    encoder : EncoderConfig
        The representation (features or an autoencoder), its pretext loss and training.
    head : HeadConfig
        The clustering head (k-means, GMM, DTC), its k and distance.
    seed : int
        Seeds every random choice: the same config and seed give the same result on CPU.
    device : str
        'auto', 'cpu' or 'cuda': where a network trains.
    precision : str
        'auto', 'fp32' or 'bf16' ('auto' takes bf16 only where it is native and calibrated close to fp32).

    Examples
    --------
    >>> import fthc
    >>> fthc.preset("features", k=5).head.k
    5"""

    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    head: HeadConfig = field(default_factory=HeadConfig)
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    precision: str = "auto"  # auto | fp32 | bf16: the networks' forward passes (auto: bf16 where native)

    def __hash__(self) -> int:
        return hash(self.key())

    def to_dict(self) -> dict[str, Any]:
        """The flat row: {autoencoder, ..., k, ..., seed, device, precision}."""
        return {**asdict(self.encoder), **asdict(self.head), "seed": self.seed, "device": self.device,
                "precision": self.precision}

    @classmethod
    def of(cls, **fields_: Any) -> "ClustererConfig":
        """From fields by their own names: `ClustererConfig.of(autoencoder="lstm", k=6)`."""
        return cls._build(dict(fields_))

    @classmethod
    def _build(cls, flat: dict[str, Any]) -> "ClustererConfig":
        """From flat fields, each section built from its own (the defaults of a section are never built first,
        so a features config never derives a network's embedding, nor imports PyTorch)."""
        unknown = sorted(set(flat) - set(SECTION_OF) - {f.name for f in fields(cls)} - set(SECTIONS))
        if unknown:
            raise IncompatibleConfigError(f"unknown config fields {unknown}; valid: {sorted(cls.row_fields())} "
                                          f"and the sections {sorted(SECTIONS)}")
        sections = {s: flat.pop(s) if isinstance(flat.get(s), section) else
                    section(**{n: flat.pop(n) for n in list(flat) if SECTION_OF.get(n) == s})
                    for s, section in SECTIONS.items()}
        return cls(**sections, **flat)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ClustererConfig":
        """From the flat row, or by section ({"encoder": {...}, "head": {...}, "seed": 0}), or both mixed."""
        flat: dict[str, Any] = {}
        for name, value in data.items():
            if name in SECTIONS and isinstance(value, dict):
                flat.update(value)
            else:
                flat[name] = value
        misplaced = sorted(f"{n} (in {s})" for s, v in data.items() if s in SECTIONS and isinstance(v, dict)
                           for n in v if SECTION_OF.get(n) != s)
        if misplaced:
            raise IncompatibleConfigError(f"config fields in the wrong section: {', '.join(misplaced)}")
        return cls._build(flat)  # which names unknown fields

    def key(self) -> str:
        """Canonical JSON of the fields that define the model. Where it runs does not: the device, and the
        precision (bf16 gives the same quality as fp32, measured; each run records the precision it used)."""
        d = self.to_dict()
        d.pop("device")
        d.pop("precision")
        return json.dumps(d, sort_keys=True, separators=(",", ":"))

    def replace(self, **changes: Any) -> "ClustererConfig":
        """A copy with fields changed by their own names (`k=6`, `autoencoder="lstm"`) or whole sections.
        Changing the autoencoder or pretext re-derives the embedding unless it is given too."""
        top = {n: changes.pop(n) for n in list(changes) if n not in SECTION_OF}
        unknown = sorted(set(top) - {f.name for f in fields(self)})
        if unknown:
            raise IncompatibleConfigError(f"unknown config fields {unknown}; valid: {sorted(self.row_fields())} "
                                          f"and the sections {sorted(SECTIONS)}")
        if "autoencoder" in changes or "pretext" in changes:
            changes.setdefault("embedding", None)
        sections = {s: top.pop(s, getattr(self, s)) for s in SECTIONS}
        for s in SECTIONS:
            mine = {n: v for n, v in changes.items() if SECTION_OF[n] == s}
            if mine:
                sections[s] = replace(sections[s], **mine)
        return replace(self, **sections, **top)

    @staticmethod
    def row_fields() -> tuple[str, ...]:
        """The names of the flat row's fields (what `--only` filters and stores keep)."""
        return (*SECTION_OF, "seed", "device", "precision")

    def validate(self) -> "ClustererConfig":
        """Raise UnknownComponentError or IncompatibleConfigError before any training."""
        e, h = self.encoder, self.head
        clu = HEADS.get(h.clustering)
        REDUCTIONS.get(h.reduction)
        problems = network_problems(e) if encoder_component(self).flag("trains_network") else \
            featureless_problems(e)
        if clu.flag("uses_distance"):
            from .clustering import DISTANCES

            DISTANCES.get(h.distance)
        elif h.distance != "eucl":
            problems.append(f"clustering {h.clustering!r} does not use a distance (got {h.distance!r})")
        if clu.flag("refines_encoder") and not encoder_component(self).flag("trains_network"):
            problems.append(f"clustering {h.clustering!r} fine-tunes a network, which the {e.autoencoder!r} "
                            "encoder does not have")
        elif clu.flag("refines_encoder") and not _pretext(e.pretext).flag("needs_decoder"):
            problems.append(f"clustering {h.clustering!r} fine-tunes the encoder with its reconstruction loss, "
                            f"which pretext {e.pretext!r} does not have")
        if not clu.flag("uses_reduction") and h.reduction != "none":
            problems.append(f"clustering {h.clustering!r} does not use dimension reduction "
                            f"(got {h.reduction!r})")
        flat = self.to_dict()
        for name in ("k", "latent_dim", "reduced_dim", "batch_size"):  # k = 1: one segment, no structure found
            if flat[name] < 1:
                problems.append(f"{name} must be at least 1")
        if e.pretrain_batches < 0 or h.dtc_batches < 0:
            problems.append("training budgets cannot be negative")
        if self.precision not in PRECISIONS:
            problems.append(f"unknown precision {self.precision!r}; valid: {', '.join(PRECISIONS)}")
        if h.init not in ("complete", "robust", "kmeans++"):
            problems.append(f"unknown init {h.init!r}; valid: complete, robust, kmeans++")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            problems.append(f"unknown device {self.device!r}")
        if problems:
            raise IncompatibleConfigError("; ".join(problems))
        return self


NETWORK_FIELDS = ("embedding", "latent_dim", "arch", "vae_beta", "feature_weight", "pretrain_batches", "batch_size",
                  "lr")  # what only an encoder that trains a network takes (besides its pretext)


def featureless_problems(e: EncoderConfig) -> list[str]:
    """An encoder that trains no network takes no pretext options: each one given is named."""
    default = EncoderConfig(autoencoder=e.autoencoder, pretext="none")
    given = [n for n in NETWORK_FIELDS if getattr(e, n) != getattr(default, n)]
    problems = [f"the {e.autoencoder!r} encoder trains no network, so it takes no pretext loss "
                f"(got pretext={e.pretext!r}; use 'none')"] if e.pretext != "none" else []
    if given:
        problems.append(f"the {e.autoencoder!r} encoder trains no network, so it takes no pretext options "
                        f"(got {', '.join(f'{n}={getattr(e, n)!r}' for n in given)})")
    return problems


def network_problems(e: EncoderConfig) -> list[str]:
    """What does not fit together among network, pretext loss and embedding (read off their flags)."""
    from .models import AUTOENCODERS, EMBEDDINGS

    ae = AUTOENCODERS.get(e.autoencoder)
    emb = EMBEDDINGS.get(e.embedding)
    pre = _pretext(e.pretext)
    problems = []
    if pre.flag("needs_layer_pairs") and not ae.flag("supports_multi_rec"):
        problems.append(f"pretext {e.pretext!r} needs mirrored layers, which the recurrent "
                        f"{e.autoencoder!r} autoencoder does not have")
    if pre.flag("needs_decoder") and not ae.flag("has_decoder"):
        problems.append(f"the {e.autoencoder!r} encoder has no decoder: it trains with a contrastive pretext, "
                        f"not {e.pretext!r}")
    if pre.flag("needs_variable_length") and not ae.flag("variable_length"):
        problems.append(f"pretext {e.pretext!r} trains on sub-histories, which the fixed-length "
                        f"{e.autoencoder!r} autoencoder cannot take")
    if pre.flag("needs_variational") != emb.flag("variational"):
        problems.append(f"pretext {e.pretext!r} and embedding {e.embedding!r} do not match "
                        "(the vae loss needs the vae embedding and vice versa)")
    if emb.flag("variational") and not ae.flag("supports_vae"):
        problems.append(f"the {e.autoencoder!r} autoencoder does not support a variational embedding")
    if emb.flag("requires_native_latent") and not ae.flag("native_latent"):
        problems.append(f"embedding {e.embedding!r} needs an autoencoder that outputs its latent itself")
    if ae.flag("temporal_latent") and e.embedding != "identity":
        problems.append(f"the {e.autoencoder!r} autoencoder's latent is a time series: embedding "
                        "must be 'identity'")
    return problems


def _pretext(name: str):
    from .models import PRETEXT_LOSSES

    return PRETEXT_LOSSES.get(name)


def encoder_component(config: ClustererConfig):
    """The ENCODERS entry of a config: the one its `autoencoder` names (features), else the one its pretext
    loss trains with (autoencoder, contrastive)."""
    e = config.encoder
    if networkless(e.autoencoder):
        return ENCODERS.get(e.autoencoder)
    return ENCODERS.get(_pretext(e.pretext).flag("encoder"))


def networkless(autoencoder: str) -> bool:
    """`autoencoder` names an encoder that trains no network (features), not a network architecture."""
    ENCODERS.get("features")  # imports the light encoders' module (never PyTorch)
    return ENCODERS.registered(autoencoder) and not ENCODERS.get(autoencoder).flag("trains_network")


def make_encoder(config: ClustererConfig):
    """The config's pretext encoder (unfitted), built by the ENCODERS factory from the encoder section."""
    c = config.validate()
    cls = encoder_component(c).build
    params = asdict(c.encoder) | {"batches": c.encoder.pretrain_batches, "seed": c.seed, "device": c.device,
                                  "precision": c.precision}
    names = cls._get_param_names()
    return cls(**{k: v for k, v in params.items() if k in names})


HEAD_PARAMS = {  # head parameter -> config field (head section, or shared); each head takes those it names
    "k": "k", "reduction": "reduction", "reduced_dim": "reduced_dim", "alpha": "alpha", "seed": "seed",
    "distance": "distance", "init": "init", "max_restarts": "max_restarts", "batches": "dtc_batches",
    "lr": "dtc_lr", "update_interval": "dtc_update_interval", "recon_weight": "dtc_recon_weight",
    "batch_size": "batch_size",
}


def make_head(config: ClustererConfig, k: int | None = None):
    """The config's clustering head (unfitted), built by the HEADS factory; `k` overrides the config's."""
    c = config.validate()
    cls = HEADS.get(c.head.clustering).build
    names = cls._get_param_names()
    flat = c.to_dict()
    params = {name: flat[field] for name, field in HEAD_PARAMS.items() if name in names}
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
    """The variational embedding for a variational pretext; none for an encoder with its own latent (or with
    no network)."""
    if networkless(autoencoder):  # an encoder that is not a network: no embedding
        return "identity"
    from .models import AUTOENCODERS, EMBEDDINGS, PRETEXT_LOSSES

    if pretext in PRETEXT_LOSSES and PRETEXT_LOSSES.get(pretext).flag("needs_variational"):
        return next(e.name for e in EMBEDDINGS if e.flag("variational"))
    if autoencoder in AUTOENCODERS and AUTOENCODERS.get(autoencoder).flag("native_latent"):
        return "identity"
    return "vector"


def valid_configs(base: ClustererConfig | None = None, *, ks=(4,), distances=None,
                  reductions=None) -> Iterator[ClustererConfig]:
    """Every valid combination of registered network components (options that do not apply collapse)."""
    from .clustering import DISTANCES
    from .models import AUTOENCODERS, PRETEXT_LOSSES

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


@dataclass(frozen=True)
class Preset:
    """A named method: its config fields, the input its encoder reads (behaviour measures, or series of a
    representation), and the number of segments it makes when none is asked for."""

    name: str
    fields: dict[str, Any]
    representation: str  # behaviour | amounts | events | calendar
    k: int
    doc: str


PRESETS: dict[str, Preset] = {p.name: p for p in [
    # behaviour features, k-means: no network; on hard synthetic data better than every network here, in seconds
    Preset("features", dict(autoencoder="features", pretext="none", clustering="kmeans"), "behaviour", 6,
           "behaviour features of each customer, k-means (the default: no network)"),
    # the same features joined with a contrastive embedding (CoLES: GRU on random sub-histories, NT-Xent) that
    # has a fifth of the variance; k-means on the joint space
    Preset("behaviour", dict(autoencoder="gru", pretext="contrastive", clustering="kmeans", latent_dim=32,
                             pretrain_batches=300, batch_size=64, lr=2e-3, feature_weight=0.8), "events", 4,
           "behaviour features + a contrastive GRU embedding of the transaction sequence, k-means"),
    # the paper's best: ResNet autoencoder, MSE pretext, DTC layer with Euclidean distance
    Preset("fthc", dict(autoencoder="resnet", pretext="mse", clustering="dtc", distance="eucl"), "amounts", 4,
           "the paper's: ResNet autoencoder (MSE), Deep Temporal Clustering layer"),
    # the paper's baselines
    Preset("dtc", dict(autoencoder="dtc", pretext="mse", clustering="dtc", distance="eucl"), "amounts", 4,
           "the paper's DTC baseline: its recurrent autoencoder and clustering layer"),
    Preset("lstm", dict(autoencoder="lstm", pretext="mse", clustering="kmeans"), "amounts", 4,
           "the paper's LSTM autoencoder, k-means"),
    Preset("fcnn", dict(autoencoder="fcnn", pretext="mse", clustering="kmeans"), "amounts", 4,
           "the paper's fully connected autoencoder, k-means"),
    Preset("vae", dict(autoencoder="fcnn", pretext="vae", clustering="kmeans"), "amounts", 4,
           "the paper's variational autoencoder, k-means"),
    # this project's length-invariant encoder: pooled residual features, k-means on the latent space
    Preset("pooled", dict(autoencoder="resnet_pool", pretext="mse", clustering="kmeans", arch={"filters": 32}),
           "events", 4, "a length-invariant residual autoencoder (pooled), k-means"),
]}
DEFAULT_PRESET = "features"


def preset_representation(name: str) -> str:
    """The input a preset's encoder reads: 'behaviour' (measures) or a series representation."""
    return get_preset(name).representation


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise UnknownComponentError(f"unknown preset {name!r}; valid: {', '.join(PRESETS)}")
    return PRESETS[name]


def preset(name: str, **overrides: Any) -> ClustererConfig:
    """A named configuration (k: the preset's unless given: 6 for features, the paper grid's middle value 4 for
    the network presets), with any field overridden.

    Parameters
    ----------
    name : str
        A preset of `fthc.config.PRESETS` ('features', 'fthc', 'paper-fcnn', ...; docs/methods.md lists them).
    **overrides
        Any field of `ClustererConfig` by its flat name (k, seed, autoencoder, clustering, ...).

    Returns
    -------
    ClustererConfig

    Examples
    --------
    >>> import fthc
    >>> fthc.preset("features", k=3, seed=1).seed
    1"""
    p = get_preset(name)
    return ClustererConfig.from_dict({**p.fields, "k": p.k, **overrides}).validate()
