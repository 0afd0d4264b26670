"""A fitted model as one folder: manifest.json, clustering.npz (allow_pickle=False), weights.pt for an encoder that
trains a network (loaded weights-only), and any further arrays its owner saves (a `Segmenter`: segmenter.npz),
with the SHA-256 of each file in the manifest and the manifest's own SHA-256 in manifest.sha256 (an edited k or
seq_len is refused, not trusted). Nothing is unpickled, and nothing outside the folder is opened: the manifest
names its files, which must be regular files inside the folder (a symlink is refused before it is opened).

Format 4 lists the files it holds (no weights.pt for the behaviour-feature encoder, which trains no network) and
carries an owner's section (`extra`). Format 3 added the manifest checksum and the column mapping; format 2 names
the encoder and head by their registry names and parameters; formats 1 (fthc 0.1) to 3 still load.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__
from .clustering import HEADS
from .config import ClustererConfig, make_encoder, make_head
from .data.series import SeriesSpec
from .errors import ArtefactError
from .models import ENCODERS

ARTEFACT_FORMAT = 4
READABLE_FORMATS = (1, 2, 3, 4)
NETWORK_FILES = ("weights.pt", "clustering.npz")  # formats 1-3 hold exactly these
FORMAT_4_FILES = "its files: clustering.npz, weights.pt for an encoder that trains a network, segmenter.npz"


def registry_name(registry, obj) -> str:
    """The name under which `obj`'s class is registered."""
    name = registry.name_of(obj)
    if name is None:
        raise ArtefactError(f"{type(obj).__name__} is not registered in {registry.family}s; cannot be saved")
    return name


def _jsonable(params: dict) -> dict:
    return json.loads(json.dumps(params, default=lambda v: v.item() if hasattr(v, "item") else
                                 list(v) if isinstance(v, tuple) else str(v)))


def trains_network(encoder) -> bool:
    return ENCODERS.get(registry_name(ENCODERS, encoder)).flag("trains_network")


def write_artefact(model, folder, extra: dict | None = None, extra_arrays: dict[str, np.ndarray] | None = None) -> Path:
    """Write `model` (a fitted Pipeline) into `folder`; `extra` (JSON) and `extra_arrays` (segmenter.npz) are an
    owner's own state, checksummed with the rest."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    encoder, head = model.encoder_, model.head_
    files = ["clustering.npz"]
    if trains_network(encoder):
        import torch

        torch.save({f"network.{k}": v.cpu() for k, v in encoder.network_.state_dict().items()},
                   folder / "weights.pt")
        files.insert(0, "weights.pt")
    np.savez(folder / "clustering.npz", labels=head.labels_, n_features_in=np.array(head.n_features_in_),
             **head.arrays(), **{f"encoder.{k}": v for k, v in encoder.arrays().items()})
    if extra_arrays:
        np.savez(folder / "segmenter.npz", **extra_arrays)
        files.append("segmenter.npz")
    manifest = {
        "format": ARTEFACT_FORMAT, "fthc_version": __version__,
        "config": model.config.to_dict() if getattr(model, "config", None) is not None else None,
        "encoder": {"name": registry_name(ENCODERS, encoder), "params": _jsonable(encoder.get_params())},
        "head": {"name": registry_name(HEADS, head), "params": _jsonable(head.get_params())},
        "input": {"n_channels": getattr(encoder, "n_channels_", None), "seq_len": getattr(encoder, "seq_len_", None),
                  "channels": model.channels_,
                  "series_spec": model.series_spec_.to_dict() if model.series_spec_ else None,
                  "series_scaling": model.series_scaling_},
        "fitted": {"degenerate": head.degenerate_, "cluster_sizes": head.cluster_sizes_.tolist()},
        "column_mapping": getattr(model, "column_mapping_", None),
        "extra": extra,
        "sha256": {name: sha256(folder / name) for name in files},
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
    extra: dict | None = None
    extra_arrays: dict[str, np.ndarray] | None = None


def regular_file(path: Path) -> Path:
    """`path` if it is a regular file itself (checked with lstat, before anything opens it): a symlink, a
    folder or a device in a model folder is refused."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        raise ArtefactError(f"{path} is missing or corrupted (no such file)") from None
    if stat.S_ISLNK(mode):
        raise ArtefactError(f"{path} is a symbolic link: a model folder holds its own files, and nothing outside "
                            "it is opened")
    if not stat.S_ISREG(mode):
        raise ArtefactError(f"{path} is not a regular file")
    return path


def read_manifest(folder) -> dict:
    folder = Path(folder)
    if not folder.is_dir():
        raise ArtefactError(f"{folder}: not a model folder (fthc segment writes one as out/model)")
    try:
        manifest = json.loads(regular_file(folder / "manifest.json").read_text())
    except ArtefactError as exc:
        if not (folder / "manifest.json").exists():
            inner = folder / "model"
            hint = (f"; `fthc segment --out {folder}` keeps its model in {inner}: give --model {inner}"
                    if (inner / "manifest.json").exists() else "")
            raise ArtefactError(f"{folder}: no manifest.json; not a saved fthc model{hint}") from exc
        raise
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtefactError(f"{folder / 'manifest.json'} is corrupted: {exc}") from exc
    fmt = manifest.get("format") if isinstance(manifest, dict) else None
    if fmt not in READABLE_FORMATS:
        raise ArtefactError(f"{folder}: saved in artefact format {fmt!r} by fthc "
                            f"{manifest.get('fthc_version') if isinstance(manifest, dict) else '?'}; this fthc "
                            f"{__version__} reads formats {', '.join(map(str, READABLE_FORMATS))}")
    if fmt >= 3:
        try:
            expected = regular_file(folder / "manifest.sha256").read_text().strip()
        except ArtefactError:
            if not (folder / "manifest.sha256").exists():
                raise ArtefactError(f"{folder}: manifest.sha256 is missing; the manifest cannot be trusted") from None
            raise
        if sha256(folder / "manifest.json") != expected:
            raise ArtefactError(f"{folder / 'manifest.json'} was changed after the model was saved (checksum "
                                "mismatch); refit the model rather than edit its manifest")
    sums = manifest.get("sha256")
    allowed = {"weights.pt", "clustering.npz", "segmenter.npz"}
    if not isinstance(sums, dict) or not all(isinstance(v, str) and v for v in sums.values()) or \
            (fmt < 4 and set(sums) != set(NETWORK_FILES)) or not set(sums) <= allowed or \
            "clustering.npz" not in sums:
        raise ArtefactError(f"{folder / 'manifest.json'}: its 'sha256' must give the checksums of exactly "
                            f"{' and '.join(NETWORK_FILES) if fmt < 4 else FORMAT_4_FILES}, got {sums!r}")
    for name, digest in sums.items():
        path = regular_file(folder / name)
        if sha256(path) != digest:
            raise ArtefactError(f"{path} is missing or corrupted (checksum mismatch)")
    return manifest


def read_artefact(folder) -> Artefact:
    folder = Path(folder)
    manifest = read_manifest(folder)
    fmt, sums = manifest["format"], manifest["sha256"]
    try:
        config = ClustererConfig.from_dict(manifest["config"]) if manifest.get("config") else None
        if fmt == 1:  # fitted in float32 before precision was a setting (format 1 always has a config)
            config = config.replace(precision="fp32")
        if config is not None:
            encoder, head = make_encoder(config), make_head(config)
        else:
            encoder = ENCODERS.create(manifest["encoder"]["name"], **manifest["encoder"]["params"])
            head = HEADS.create(manifest["head"]["name"], **manifest["head"]["params"])
        inp = manifest["input"]
        with np.load(folder / "clustering.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        encoder_arrays = {k[len("encoder."):]: v for k, v in arrays.items() if k.startswith("encoder.")}
        if trains_network(encoder) != ("weights.pt" in sums):
            raise ArtefactError(f"{folder / 'manifest.json'}: its 'sha256' must give the checksums of exactly its "
                                f"files: weights.pt {'is' if trains_network(encoder) else 'is not'} one for a "
                                f"{type(encoder).__name__}")
        if trains_network(encoder):
            import torch

            try:
                weights = torch.load(folder / "weights.pt", map_location="cpu", weights_only=True)
            except Exception as exc:  # torch raises several types for a file that is not its own
                raise ArtefactError(f"{folder / 'weights.pt'} cannot be read as weights: "
                                    f"{type(exc).__name__}") from exc
            if "dtc.centroids" in weights:  # format 1 kept the DTC centroids beside the network weights
                arrays["centroids"] = weights.pop("dtc.centroids").numpy()
            encoder.from_state({"weights": {k[len("network."):]: v for k, v in weights.items()},
                                "input_shape": [inp["n_channels"], inp["seq_len"]], "arrays": encoder_arrays,
                                "channels": inp["channels"], "scaling": inp["series_scaling"]})
        else:
            encoder.load_arrays(encoder_arrays)
        head.load_arrays(arrays, encoder=encoder)
        spec = SeriesSpec(**inp["series_spec"]) if inp["series_spec"] else None
        channels, scaling, mapping = inp["channels"], inp["series_scaling"], manifest.get("column_mapping")
        if not all(isinstance(v, t) for v, t in ((channels, (list, type(None))), (scaling, (dict, type(None))),
                                                  (mapping, (dict, type(None))))):
            raise TypeError("input channels, series_scaling or column_mapping of the wrong type")
        extra_arrays = None
        if "segmenter.npz" in sums:
            with np.load(folder / "segmenter.npz", allow_pickle=False) as npz:
                extra_arrays = {k: npz[k] for k in npz.files}
    except ArtefactError:
        raise
    except Exception as exc:  # whatever a manifest that is not what fthc saved makes the rebuilding raise
        raise ArtefactError(f"{folder}: the saved model does not match its manifest ({type(exc).__name__}: "
                            f"{exc})") from exc
    return Artefact(config, encoder, head, spec, scaling, channels, mapping, manifest.get("extra"), extra_arrays)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
