"""Spectral normalisation with an explicit, once-per-training-step power iteration.

``torch.nn.utils.spectral_norm`` updates its ``u`` vector on every forward in
training mode, i.e. 60 times per Langevin chain. The original code runs one
power iteration per training iteration and holds W/sigma fixed during the chain
(openai/ebm_code_release). Here the forward never touches ``u``/``v``; ``power_iteration``
(called once per training step by the training loop) does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SpectralNormMixin:
    """Adds W/sigma(W) to a layer whose weight lives in ``weight_orig``.

    ``lower_bound`` gives the original's variant for the second conv of each
    residual block: the weight is only scaled down when sigma > 1.
    """

    def _init_sn(self, out_dim: int, in_dim: int, lower_bound: bool) -> None:
        self.lower_bound = lower_bound
        self.register_buffer("u", F.normalize(torch.randn(out_dim), dim=0))
        self.register_buffer("v", F.normalize(torch.randn(in_dim), dim=0))

    def _matrix(self) -> torch.Tensor:
        return self.weight_orig.flatten(1)  # [out, in*k*k]

    @torch.no_grad()
    def power_iteration(self) -> None:
        w = self._matrix()
        self.v.copy_(F.normalize(w.t() @ self.u, dim=0, eps=1e-12))
        self.u.copy_(F.normalize(w @ self.v, dim=0, eps=1e-12))

    def normalized_weight(self) -> torch.Tensor:
        """W/sigma; with frozen weights (a Langevin chain) computed once and reused until W, u or v change.

        Changes are seen through tensor versions: in-place ops, optimiser steps,
        load_state_dict and power_iteration all count (writes through ``.data`` do not).
        """
        w = self.weight_orig
        if w.requires_grad or torch.compiler.is_compiling():
            return self._normalize()
        amp = torch.is_autocast_enabled(w.device.type)
        key = (w.data_ptr(), w._version, self.u._version, self.v._version, amp)
        cache = getattr(self, "_sn_cache", None)
        if cache is None or cache[0] != key:
            wn = self._normalize()
            if amp:  # cast once here rather than by autocast on every forward (the cast is all it would do)
                wn = wn.to(torch.get_autocast_dtype(w.device.type))
            cache = self._sn_cache = (key, wn)
        return cache[1]

    def _normalize(self) -> torch.Tensor:
        # sigma in fp32 under bf16 autocast too (the matvec would run in bf16, and torch.dot refuses mixed dtypes)
        with torch.autocast(self.u.device.type, enabled=False):
            sigma = torch.dot(self.u, self._matrix() @ self.v) + 1e-6
        if self.lower_bound:
            return self.weight_orig / sigma * torch.clamp(sigma, max=1.0)
        return self.weight_orig / sigma


class SNConv2d(nn.Conv2d, SpectralNormMixin):
    """A 3x3 (or any) convolution, spectrally normalised, no bias (biases go on inputs)."""

    def __init__(self, c_in, c_out, kernel_size=3, stride=1, padding=1, lower_bound=False, init_std=None):
        super().__init__(c_in, c_out, kernel_size, stride, padding, bias=False)
        w = self.weight.data
        if init_std is not None:  # the original's near-zero init of residual branches
            w.normal_(0.0, init_std)
        del self.weight
        self.weight_orig = nn.Parameter(w)
        self._init_sn(c_out, c_in * kernel_size * kernel_size, lower_bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.normalized_weight(), None, self.stride, self.padding)


class SNLinear(nn.Linear, SpectralNormMixin):
    def __init__(self, d_in, d_out, bias=True):
        super().__init__(d_in, d_out, bias=bias)
        w = self.weight.data
        del self.weight
        self.weight_orig = nn.Parameter(w)
        self._init_sn(d_out, d_in, lower_bound=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.normalized_weight(), self.bias)


def power_iteration(model: nn.Module) -> None:
    """One power iteration on every spectrally normalised layer of ``model``."""
    for m in model.modules():
        if isinstance(m, SpectralNormMixin):
            m.power_iteration()


def sn_vectors(model: nn.Module) -> list[torch.Tensor]:
    """Copies of all u and v vectors (for tests and checks)."""
    out = []
    for m in model.modules():
        if isinstance(m, SpectralNormMixin):
            out += [m.u.clone(), m.v.clone()]
    return out
