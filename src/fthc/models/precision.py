"""Mixed precision: the networks' forward passes in bfloat16 where the hardware computes it natively.

On CPUs with AVX-512 bf16 or AMX, and on CUDA devices with bf16, `torch.autocast` halves the time of a training
step (measured by `benchmarks/bench_models.py --parts speed`). Losses, metrics, latents and the DTC distances
stay float32: `autocast` only covers the network, and everything it returns is cast back before use.

Whether bf16 changes the results depends on the CPU: with AVX-512 bf16 alone (AMD EPYC) the kernels accumulate in
float32 and a ResNet's pretext loss after 20 batches stays within 1% of float32's; with AMX, products really run
in bf16 and the same loss ended 24% apart. So `precision="auto"` takes bf16 only after a short calibration on
this machine (`fthc.models.encoders.bf16_calibration`: the paper's ResNet trained 20 batches on seeded series in both precisions)
finds the two losses within `TOLERANCE` of each other; otherwise float32, and `precision_why` says which and why.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import torch

from ..errors import IncompatibleConfigError
from .registries import PRECISIONS


@functools.cache
def cpu_has_native_bf16() -> bool:
    """True when the CPU computes bf16 in hardware (AVX-512 bf16 or AMX); emulated bf16 is slower than fp32."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: stay with float32 rather than guess
        return False
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return "avx512_bf16" in flags or "amx_bf16" in flags


TOLERANCE = 0.05  # bf16's pretext loss within 5% of float32's after the calibration's 20 batches


def precision_why(precision: str, device: torch.device, calibration=None) -> str:
    """What `resolve_precision` chose here, and why (for the run's record and the CLI)."""
    chosen = resolve_precision(precision, device, calibration)
    if precision != "auto":
        return f"{chosen}, as asked"
    if not _native(device):
        return "fp32: this device has no native bf16"
    if calibration is None:
        return "fp32: no calibration was given to check bf16 against"
    gap = calibration(device.type)
    return (f"{chosen}: bf16 training lands {gap:.1%} from fp32 on this machine's calibration "
            f"({'within' if chosen == 'bf16' else 'beyond'} the {TOLERANCE:.0%} tolerance)")


def _native(device: torch.device) -> bool:
    return torch.cuda.is_bf16_supported() if device.type == "cuda" else \
        device.type == "cpu" and cpu_has_native_bf16()


def resolve_precision(precision: str, device: torch.device, calibration=None) -> str:
    """'fp32' or 'bf16' for this device. `auto` takes bf16 where it is native and the calibration finds it gives
    float32's results within `TOLERANCE`, fp32 elsewhere; an explicit 'bf16' on a device without it is refused
    rather than emulated slowly. `calibration(device_type)`: the relative gap of bf16 training from fp32 on
    this machine (`fthc.models.encoders.bf16_calibration`); without it `auto` keeps fp32."""
    if precision not in PRECISIONS:
        raise IncompatibleConfigError(f"unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}")
    native = _native(device)
    if precision == "auto":
        return "bf16" if native and calibration is not None and calibration(device.type) <= TOLERANCE else "fp32"
    if precision == "bf16" and not native:
        raise IncompatibleConfigError(f"precision 'bf16' asked, but the {device.type} device here has no native "
                                      "bf16 (AVX-512 bf16, AMX or a bf16 GPU); use 'auto' or 'fp32'")
    return precision


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """The context a forward pass runs in: bf16 autocast, or nothing for fp32."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
