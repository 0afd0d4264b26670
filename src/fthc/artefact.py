"""A fitted pipeline as one folder: manifest.json, weights.pt (loaded weights-only) and clustering.npz
(allow_pickle=False), with the SHA-256 of each file in the manifest, and the manifest's own SHA-256 in
manifest.sha256 (an edited k or seq_len is refused, not trusted). Nothing is unpickled, and nothing outside
the folder is opened: the manifest names exactly weights.pt and clustering.npz.

Format 3 adds the manifest checksum and the column mapping the data was read with (so `assign` reads new data
the same way). Format 2 names the encoder and head by their registry names and parameters (and, for a
`Clusterer`, its config). Formats 1 (fthc 0.1, the single `Clusterer` class) and 2 still load.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import __version__
from .clustering import HEADS
from .config import ClustererConfig, make_encoder, make_head
from .data.series import SeriesSpec
from .errors import ArtefactError
from .models import ENCODERS

ARTEFACT_FORMAT = 3
READABLE_FORMATS = (1, 2, 3)
FILES = ("weights.pt", "clustering.npz")  # what a model folder holds besides its manifest


def registry_name(registry, obj) -> str:
    """The name under which `obj`'s class is registered."""
    for component in registry:
        if component.build is type(obj):
            return component.name
    raise ArtefactError(f"{type(obj).__name__} is not registered in {registry.family}s; cannot be saved")


def _jsonable(params: dict) -> dict:
    return json.loads(json.dumps(params, default=lambda v: v.item() if hasattr(v, "item") else str(v)))


def write_artefact(model, folder) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    encoder, head = model.encoder_, model.head_
    torch.save({f"network.{k}": v.cpu() for k, v in encoder.network_.state_dict().items()}, folder / "weights.pt")
    np.savez(folder / "clustering.npz", labels=head.labels_, **head.arrays(),
             **{f"encoder.{k}": v for k, v in encoder.arrays().items()})
    manifest = {
        "format": ARTEFACT_FORMAT, "fthc_version": __version__,
        "config": model.config.to_dict() if getattr(model, "config", None) is not None else None,
        "encoder": {"name": registry_name(ENCODERS, encoder), "params": _jsonable(encoder.get_params())},
        "head": {"name": registry_name(HEADS, head), "params": _jsonable(head.get_params())},
        "input": {"n_channels": encoder.n_channels_, "seq_len": encoder.seq_len_, "channels": model.channels_,
                  "series_spec": model.series_spec_.to_dict() if model.series_spec_ else None,
                  "series_scaling": model.series_scaling_},
        "fitted": {"degenerate": head.degenerate_, "cluster_sizes": head.cluster_sizes_.tolist()},
        "column_mapping": getattr(model, "column_mapping_", None),
        "sha256": {name: sha256(folder / name) for name in FILES},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    (folder / "manifest.sha256").write_text(sha256(folder / "manifest.json") + "\n")
    return folder


@dataclass
class Artefact:
    """What a model folder holds: the fitted encoder and head, the config (if any) and how inputs were built."""

    config: ClustererConfig | None
    encoder: object
    head: object
    series_spec: SeriesSpec | None
    series_scaling: dict | None
    channels: list[str] | None
    column_mapping: dict | None = None


def read_artefact(folder) -> Artefact:
    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except FileNotFoundError as exc:
        raise ArtefactError(f"{folder}: no manifest.json; not a saved fthc model") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtefactError(f"{folder / 'manifest.json'} is corrupted: {exc}") from exc
    fmt = manifest.get("format") if isinstance(manifest, dict) else None
    if fmt not in READABLE_FORMATS:
        raise ArtefactError(f"{folder}: saved in artefact format {fmt!r} by fthc {manifest.get('fthc_version')}; "
                            f"this fthc {__version__} reads formats {', '.join(map(str, READABLE_FORMATS))}")
    if fmt >= 3:
        try:
            expected = (folder / "manifest.sha256").read_text().strip()
        except FileNotFoundError:
            raise ArtefactError(f"{folder}: manifest.sha256 is missing; the manifest cannot be trusted") from None
        if sha256(folder / "manifest.json") != expected:
            raise ArtefactError(f"{folder / 'manifest.json'} was changed after the model was saved (checksum "
                                "mismatch); refit the model rather than edit its manifest")
    sums = manifest.get("sha256")
    if not isinstance(sums, dict) or set(sums) != set(FILES) or not all(isinstance(v, str) and v for v in
                                                                         sums.values()):
        raise ArtefactError(f"{folder / 'manifest.json'}: its 'sha256' must give the checksums of exactly "
                            f"{' and '.join(FILES)}, got {sums!r}")
    try:
        for name, digest in sums.items():
            path = folder / name
            if not path.is_file() or sha256(path) != digest:
                raise ArtefactError(f"{path} is missing or corrupted (checksum mismatch)")
        config = ClustererConfig.from_dict(manifest["config"]) if manifest.get("config") else None
        if fmt == 1:  # fitted in float32 before precision was a setting (format 1 always has a config)
            config = config.replace(precision="fp32")
        if config is not None:
            encoder, head = make_encoder(config), make_head(config)
        else:
            encoder = ENCODERS.create(manifest["encoder"]["name"], **manifest["encoder"]["params"])
            head = HEADS.create(manifest["head"]["name"], **manifest["head"]["params"])
        inp = manifest["input"]
        try:
            weights = torch.load(folder / "weights.pt", map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises several types for a file that is not its own
            raise ArtefactError(f"{folder / 'weights.pt'} cannot be read as weights: {type(exc).__name__}") from exc
        with np.load(folder / "clustering.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        if "dtc.centroids" in weights:  # format 1 kept the DTC centroids beside the network weights
            arrays["centroids"] = weights.pop("dtc.centroids").numpy()
        encoder.from_state({"weights": {k[len("network."):]: v for k, v in weights.items()},
                            "input_shape": [inp["n_channels"], inp["seq_len"]],
                            "arrays": {k[len("encoder."):]: v for k, v in arrays.items() if k.startswith("encoder.")},
                            "channels": inp["channels"], "scaling": inp["series_scaling"]})
        head.load_arrays(arrays, encoder=encoder)
        spec = SeriesSpec(**inp["series_spec"]) if inp["series_spec"] else None
        channels, scaling, mapping = inp["channels"], inp["series_scaling"], manifest.get("column_mapping")
        if not all(isinstance(v, t) for v, t in ((channels, (list, type(None))), (scaling, (dict, type(None))),
                                                  (mapping, (dict, type(None))))):
            raise TypeError("input channels, series_scaling or column_mapping of the wrong type")
    except ArtefactError:
        raise
    except Exception as exc:  # whatever a manifest that is not what fthc saved makes the rebuilding raise
        raise ArtefactError(f"{folder}: the saved model does not match its manifest ({type(exc).__name__}: "
                            f"{exc})") from exc
    return Artefact(config, encoder, head, spec, scaling, channels, mapping)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
