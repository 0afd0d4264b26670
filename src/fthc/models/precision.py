"""Mixed precision: the networks' forward passes in bfloat16 where the hardware computes it natively.

On CPUs with AVX-512 bf16 or AMX, and on CUDA devices with bf16, `torch.autocast` halves the time of a training
step (measured by `benchmarks/bench_models.py --parts speed`). Losses, metrics, latents and the DTC distances
stay float32: `autocast` only covers the network, and everything it returns is cast back before use.
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


def resolve_precision(precision: str, device: torch.device) -> str:
    """'fp32' or 'bf16' for this device. `auto` takes bf16 where it is native, fp32 elsewhere; an explicit
    'bf16' on a device without it is refused rather than emulated slowly."""
    if precision not in PRECISIONS:
        raise IncompatibleConfigError(f"unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}")
    native = (torch.cuda.is_bf16_supported() if device.type == "cuda" else
              device.type == "cpu" and cpu_has_native_bf16())
    if precision == "auto":
        return "bf16" if native else "fp32"
    if precision == "bf16" and not native:
        raise IncompatibleConfigError(f"precision 'bf16' asked, but the {device.type} device here has no native "
                                      "bf16 (AVX-512 bf16, AMX or a bf16 GPU); use 'auto' or 'fp32'")
    return precision


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """The context a forward pass runs in: bf16 autocast, or nothing for fp32."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
