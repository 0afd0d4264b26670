"""Encoder/decoder pairs: FCNN, ResNet, LSTM and DTC, with the reference sizes as defaults.

Every autoencoder takes any number of input channels, returns its encoder features (before the embedding)
and decodes a latent back to [n, channels, seq_len]. Decoders end in a linear layer, so they can output the
negative values of z-scored targets. `encode`/`decode` also return the activations of mirrored layers for
the multi-level reconstruction loss, where the architecture has them.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..registry import Registry

AUTOENCODERS: Registry = Registry("autoencoder", flags={
    "native_latent": False,  # the encoder outputs its latent itself (no embedding layer needed)
    "recurrent": False,
    "supports_multi_rec": False,  # has mirrored encoder/decoder layers
    "supports_vae": False,
    "temporal_latent": False,  # the latent is a time series (DTC)
    "variable_length": False,  # gives the same latent whatever padding follows a history (can be cropped)
    "has_decoder": True,  # can be trained by reconstruction
    "min_seq_len": 1,
    "bf16": True,  # faster in bf16 autocast where the hardware has it (bench_models --parts speed measures each)
    "test_params": {},  # tiny sizes for the shared component checks
})


class Autoencoder(nn.Module):
    """Base class. Subclasses set `feature_shape` (encoder output) and `latent_shape` (decoder input)."""

    feature_shape: tuple[int, ...]
    latent_shape: tuple[int, ...]

    def encode(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        raise NotImplementedError

    def decode(self, z: torch.Tensor, length: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Reconstruct `length` steps (always the fitted seq_len, unless the autoencoder is `variable_length`)."""
        raise NotImplementedError


def _pad_to(x: torch.Tensor, length: int) -> torch.Tensor:
    return x if x.shape[-1] == length else nn.functional.pad(x, (0, length - x.shape[-1]))


@AUTOENCODERS.register("fcnn", native_latent=False, recurrent=False, supports_multi_rec=True, supports_vae=True,
                       min_seq_len=1, test_params={"hidden": (16, 16, 32)},
                       doc="fully connected, 500-500-2000 (Xie et al. DEC sizes)")
class FCNN(Autoencoder):
    def __init__(self, in_channels: int, seq_len: int, latent_dim: int, hidden: tuple[int, ...] = (500, 500, 2000)):
        super().__init__()
        self.in_channels, self.seq_len = in_channels, seq_len
        dims = [in_channels * seq_len, *hidden]
        self.enc = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        back = [latent_dim, *reversed(hidden)]
        self.dec = nn.ModuleList(nn.Linear(a, b) for a, b in zip(back[:-1], back[1:]))
        self.out = nn.Linear(hidden[0], in_channels * seq_len)  # linear: z-scored targets are signed
        self.feature_shape = (hidden[-1],)
        self.latent_shape = (latent_dim,)

    def encode(self, x, mask):
        h = x.flatten(1)
        acts = []
        for layer in self.enc:
            h = torch.relu(layer(h))
            acts.append(h)
        return h, acts

    def decode(self, z, length):
        h, acts = z, []
        for layer in self.dec:
            h = torch.relu(layer(h))
            acts.append(h)
        out = self.out(h).view(-1, self.in_channels, self.seq_len)
        return out, acts[::-1]  # acts[i] mirrors encoder layer i


class ResidualBlock(nn.Module):
    """Three convolutions (kernels 8/5/3 by default) with batch norm and a 1x1 shortcut (Wang et al. 2017)."""

    def __init__(self, c_in: int, c_out: int, kernels: tuple[int, ...]):
        super().__init__()
        layers, c = [], c_in
        for i, k in enumerate(kernels):
            # 'same' padding; an even kernel pads (k-1)//2 left and k//2 right, written out
            if k % 2:
                layers += [nn.Conv1d(c, c_out, k, padding=k // 2), nn.BatchNorm1d(c_out)]
            else:
                layers += [nn.ConstantPad1d(((k - 1) // 2, k // 2), 0.0), nn.Conv1d(c, c_out, k),
                           nn.BatchNorm1d(c_out)]
            if i < len(kernels) - 1:
                layers.append(nn.ReLU())
            c = c_out
        self.body = nn.Sequential(*layers)
        self.shortcut = nn.Sequential(nn.Conv1d(c_in, c_out, 1), nn.BatchNorm1d(c_out))

    def forward(self, x, mask: torch.Tensor | None = None):
        """With a mask, padded steps are zeroed before every convolution, so the valid steps' outputs do not
        depend on how much padding follows (what lets the pooled ResNet crop its batches)."""
        if mask is None:
            return torch.relu(self.body(x) + self.shortcut(x))
        m = mask[:, None, :].to(x.dtype)
        h = x * m
        for layer in self.body:
            h = layer(h * m if isinstance(layer, nn.ReLU) else h)
        return torch.relu(h + self.shortcut(x * m)) * m


@AUTOENCODERS.register("resnet", native_latent=False, recurrent=False, supports_multi_rec=True, supports_vae=True,
                       min_seq_len=1, test_params={"filters": 8},
                       doc="3 residual blocks of 64 filters, average pooling 10")
class ResNet(Autoencoder):
    def __init__(self, in_channels: int, seq_len: int, latent_dim: int, filters: int = 64,
                 kernels: tuple[int, ...] = (8, 5, 3), blocks: int = 3, pool: int = 10):
        super().__init__()
        self.in_channels, self.seq_len, self.filters, self.pool = in_channels, seq_len, filters, pool
        self.padded_len = math.ceil(seq_len / pool) * pool  # pooled length times pool: decoder mirrors exactly
        self.enc = nn.ModuleList(ResidualBlock(in_channels if i == 0 else filters, filters, kernels)
                                 for i in range(blocks))
        self.dec = nn.ModuleList(ResidualBlock(filters, filters, kernels) for _ in range(blocks))
        self.pooled = self.padded_len // pool
        self.expand = nn.Linear(latent_dim, filters * self.pooled)
        self.out = nn.Conv1d(filters, in_channels, 1)
        self.feature_shape = (filters * self.pooled,)
        self.latent_shape = (latent_dim,)

    def encode(self, x, mask):
        h = _pad_to(x, self.padded_len)
        acts = []
        for block in self.enc:
            h = block(h)
            acts.append(h)
        return nn.functional.avg_pool1d(h, self.pool).flatten(1), acts

    def decode(self, z, length):
        h = self.expand(z).view(-1, self.filters, self.pooled)
        h = nn.functional.interpolate(h, scale_factor=self.pool, mode="nearest")
        acts = []
        for block in self.dec:
            h = block(h)
            acts.append(h)
        return self.out(h)[..., : self.seq_len], acts[::-1]


def _lengths(mask: torch.Tensor) -> torch.Tensor | None:
    """Sequence lengths when every series is a valid prefix (right padding), else None."""
    lengths = mask.sum(1)
    steps = torch.arange(mask.shape[1], device=mask.device)
    if torch.equal(mask, steps[None, :] < lengths[:, None]):
        return lengths.clamp(min=1).cpu()
    return None


def _run_lstm(lstm: nn.LSTM, x: torch.Tensor, lengths: torch.Tensor | None):
    """A one-layer bidirectional LSTM over the valid steps only, when lengths are known: what a packed sequence
    gives (outputs at padding are 0, final states at each series' own end), computed without packing.

    Each direction runs over a padded batch in which padding only ever follows the valid steps: the forward one
    over x, the backward one over each series reversed within its own length. On CPU that runs oneDNN's LSTM,
    about 4x faster to train than the packed path, which has none (bench_models --parts speed)."""
    if lengths is None:
        return lstm(x)
    n, steps = x.shape[0], x.shape[1]
    length = lengths.to(x.device)
    t = torch.arange(steps, device=x.device)[None, :]
    valid = t < length[:, None]
    reverse = torch.where(valid, length[:, None] - 1 - t, t)  # reverses each series' valid steps, in place
    h0 = x.new_zeros(1, n, lstm.hidden_size)
    outputs = []
    for suffix, seq in (("", x), ("_reverse", x.gather(1, reverse[..., None].expand_as(x)))):
        weights = [getattr(lstm, f"{w}_l0{suffix}") for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        out = torch.lstm(seq, (h0, h0), weights, True, 1, 0.0, lstm.training, False, True)[0]
        outputs.append(out)
    last = (length - 1)[:, None, None].expand(-1, 1, lstm.hidden_size)
    h_n = torch.stack([o.gather(1, last)[:, 0] for o in outputs])  # each direction's state at the series' end
    backward = outputs[1].gather(1, reverse[..., None].expand_as(outputs[1]))  # back to time order
    out = torch.cat([outputs[0], backward], dim=2) * valid[..., None]
    return out, (h_n, None)


@AUTOENCODERS.register("lstm", native_latent=True, recurrent=True, supports_multi_rec=False, supports_vae=True,
                       variable_length=True, bf16=False,  # no faster in bf16 on CPU (bench_models --parts speed)
                       min_seq_len=1, test_params={"hidden": 8},
                       doc="BiLSTM 50 then BiLSTM to the latent; decoder repeats the latent")
class LSTM(Autoencoder):
    def __init__(self, in_channels: int, seq_len: int, latent_dim: int, hidden: int = 50):
        super().__init__()
        if latent_dim % 2:
            raise ValueError("the lstm encoder needs an even latent_dim (two directions)")
        self.seq_len = seq_len
        self.lstm1 = nn.LSTM(in_channels, hidden, batch_first=True, bidirectional=True)
        self.lstm2 = nn.LSTM(2 * hidden, latent_dim // 2, batch_first=True, bidirectional=True)
        self.dec_lstm = nn.LSTM(latent_dim, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, in_channels)
        self.feature_shape = (latent_dim,)
        self.latent_shape = (latent_dim,)

    def encode(self, x, mask):
        lengths = _lengths(mask)
        h, _ = _run_lstm(self.lstm1, x.transpose(1, 2), lengths)
        _, (hn, _) = _run_lstm(self.lstm2, h, lengths)
        return torch.cat([hn[0], hn[1]], dim=1), []  # final forward and backward states

    def decode(self, z, length):
        rep = z[:, None, :].expand(-1, length, -1)
        h, _ = self.dec_lstm(rep)
        return self.out(h).transpose(1, 2), []


@AUTOENCODERS.register("dtc", native_latent=True, recurrent=True, supports_multi_rec=False, supports_vae=False,
                       temporal_latent=True, min_seq_len=20, test_params={"filters": 8, "hidden": 8},
                       bf16=False,  # its LSTMs cancel what its convolution gains (1.01x, bench_models)
                       doc="Deep Temporal Clustering: conv + max-pool + two BiLSTMs, a latent time series")
class DTCAutoencoder(Autoencoder):
    """Madiraju et al.: the latent is a short time series [T', channels], so DTC distances act along time."""

    def __init__(self, in_channels: int, seq_len: int, latent_dim: int, filters: int = 50, kernel: int = 5,
                 pool: int = 10, pool_stride: int = 5, hidden: int = 50, latent_channels: int = 1):
        super().__init__()
        if seq_len < 2 * pool:
            raise ValueError(f"the dtc encoder needs seq_len >= {2 * pool} for its pooling, got {seq_len}")
        self.seq_len = seq_len
        self.conv = nn.Conv1d(in_channels, filters, kernel, stride=2, padding=kernel // 2)
        self.conv_len = (seq_len + 2 * (kernel // 2) - kernel) // 2 + 1
        self.pool = nn.MaxPool1d(pool, stride=pool_stride)
        self.steps = (self.conv_len - pool) // pool_stride + 1
        self.lstm1 = nn.LSTM(filters, hidden, batch_first=True, bidirectional=True)
        self.lstm2 = nn.LSTM(2 * hidden, latent_channels, batch_first=True, bidirectional=True)
        self.latent_channels = latent_channels
        self.up = nn.Conv1d(latent_channels, filters, kernel, padding=kernel // 2)
        out_pad = seq_len - ((self.conv_len - 1) * 2 - 2 * (kernel // 2) + kernel)
        self.deconv = nn.ConvTranspose1d(filters, in_channels, kernel, stride=2, padding=kernel // 2,
                                         output_padding=out_pad)
        self.feature_shape = (self.steps, latent_channels)
        self.latent_shape = (self.steps, latent_channels)

    def encode(self, x, mask):
        h = nn.functional.leaky_relu(self.conv(x))
        h = self.pool(h).transpose(1, 2)
        h, _ = self.lstm1(h)
        h, _ = self.lstm2(h)
        half = self.latent_channels
        return h[..., :half] + h[..., half:], []  # forward + backward halves (the reference added fwd twice)

    def decode(self, z, length):
        h = nn.functional.interpolate(z.transpose(1, 2), size=self.conv_len, mode="nearest")
        h = nn.functional.leaky_relu(self.up(h))
        return self.deconv(h), []


def masked_mean_std(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-channel mean and standard deviation over the valid steps: [n, C, L] -> [n, 2C]."""
    m = mask[:, None, : h.shape[-1]].to(h.dtype)
    count = m.sum(-1).clamp(min=1)
    mean = (h * m).sum(-1) / count
    var = (((h - mean[..., None]) ** 2) * m).sum(-1) / count
    return torch.cat([mean, torch.sqrt(var + 1e-6)], dim=1)


@AUTOENCODERS.register("resnet_pool", native_latent=False, recurrent=False, supports_multi_rec=False,
                       variable_length=True,
                       supports_vae=True, min_seq_len=1, test_params={"filters": 8},
                       doc="ResNet blocks, masked mean/std pooling over time; decodes a customer's typical step")
class ResNetPool(Autoencoder):
    """Length- and alignment-invariant: the latent summarises what a customer's transactions look like, not when
    they happened. The decoder reconstructs every valid step from the latent alone, so the best it can do is the
    customer's typical step: the latent must carry levels, kind mix and their spread."""

    def __init__(self, in_channels: int, seq_len: int, latent_dim: int, filters: int = 64,
                 kernels: tuple[int, ...] = (8, 5, 3), blocks: int = 3, decoder_hidden: int = 64):
        super().__init__()
        self.seq_len = seq_len
        self.enc = nn.ModuleList(ResidualBlock(in_channels if i == 0 else filters, filters, kernels)
                                 for i in range(blocks))
        self.dec = nn.Sequential(nn.Linear(latent_dim, decoder_hidden), nn.ReLU(),
                                 nn.Linear(decoder_hidden, in_channels))
        self.feature_shape = (2 * filters,)
        self.latent_shape = (latent_dim,)

    def encode(self, x, mask):
        h = x
        for block in self.enc:
            h = block(h, mask)
        return masked_mean_std(h, mask), []

    def decode(self, z, length):
        return self.dec(z)[..., None].expand(-1, -1, length), []


@AUTOENCODERS.register("gru", native_latent=False, recurrent=True, variable_length=True, has_decoder=False,
                       bf16=False,  # its GRU runs slower in bf16 on CPU (bench_models --parts speed)
                       test_params={"hidden": 8},
                       doc="GRU over the events, final state (CoLES's encoder); no decoder: contrastive pretext only")
class GRUEncoder(Autoencoder):
    """Babaev et al.'s CoLES sequence encoder: one GRU layer, its state at each series' last valid step."""

    def __init__(self, in_channels: int, seq_len: int, latent_dim: int, hidden: int = 64):
        super().__init__()
        self.gru = nn.GRU(in_channels, hidden, batch_first=True)
        self.feature_shape = (hidden,)
        self.latent_shape = (latent_dim,)

    def encode(self, x, mask):
        # valid steps first (right padding: the encoder aligns them), so the output at a series' last valid step
        # is its final state, as packing gives; unpacked runs oneDNN's GRU (contrastive pretext: 60 -> 48 s
        # per 1,000 batches, bench_models --parts speed --speed-pairs gru:contrastive)
        last = mask.sum(1).clamp(min=1) - 1
        out, _ = self.gru(x.transpose(1, 2))
        return out[torch.arange(len(out), device=out.device), last], []

    def decode(self, z, length):
        raise NotImplementedError("the gru encoder has no decoder: train it with the contrastive pretext")
