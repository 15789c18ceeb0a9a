"""The replay buffer of Algorithm 1: persistent chains, with their labels.

The original drops labels, so a replayed chain continues under a random label
(openai/ebm_code_release). Here each sample keeps its label and continues under it.
Images are stored as uint8 to save memory and dequantised on reload with
(q + U(0,1)) / 256, an unbiased round trip (the original's x/256 + U(0, 1/256)
of a 255-scaled value shrinks images by 255/256 each time).
"""

from __future__ import annotations

import torch


class ReplayBuffer:
    def __init__(self, capacity: int, quantize: bool = True):
        self.capacity, self.quantize = capacity, quantize
        self.x: torch.Tensor | None = None  # [N, ...] uint8 or float
        self.y: torch.Tensor | None = None  # [N] or [N, L], or None if unlabelled
        self.next = 0  # ring position (FIFO overwrite)
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        if not self.quantize:
            return x.detach().clone()
        return (x.detach() * 256).floor().clamp(0, 255).to(torch.uint8)

    def _decode(self, q: torch.Tensor, generator=None) -> torch.Tensor:
        if not self.quantize:
            return q.clone()
        u = torch.rand(q.shape, generator=generator, device=q.device)
        return (q.float() + u) / 256

    def add(self, x: torch.Tensor, y: torch.Tensor | None = None) -> None:
        q = self._encode(x)
        if self.x is None:
            self.x = torch.empty((self.capacity, *q.shape[1:]), dtype=q.dtype, device=q.device)
            if y is not None:
                self.y = torch.empty((self.capacity, *y.shape[1:]), dtype=y.dtype, device=y.device)
        n = q.shape[0]
        idx = (self.next + torch.arange(n, device=q.device)) % self.capacity
        self.x[idx] = q
        if self.y is not None:
            self.y[idx] = y.detach()
        self.next = (self.next + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, n: int, generator=None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """n samples drawn uniformly with replacement, dequantised."""
        idx = torch.randint(0, self.size, (n,), generator=generator, device=self.x.device)
        y = self.y[idx] if self.y is not None else None
        return self._decode(self.x[idx], generator), y

    def state_dict(self) -> dict:
        return {"x": self.x, "y": self.y, "next": self.next, "size": self.size,
                "capacity": self.capacity, "quantize": self.quantize}

    def load_state_dict(self, state: dict) -> None:
        self.x, self.y = state["x"], state["y"]
        self.next, self.size = state["next"], state["size"]
        self.capacity, self.quantize = state["capacity"], state["quantize"]


def init_chains(
    buffer: ReplayBuffer,
    fresh_x: torch.Tensor,
    fresh_y: torch.Tensor | None,
    replay_prob: float,
    generator=None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Start each chain from the buffer with probability ``replay_prob``, else fresh.

    Replay starts only once the buffer holds more than a batch, as in the original.
    """
    n = fresh_x.shape[0]
    if len(buffer) <= n or replay_prob <= 0:
        return fresh_x, fresh_y
    bx, by = buffer.sample(n, generator)
    take = torch.rand(n, generator=generator, device=fresh_x.device) < replay_prob
    x = torch.where(take.view(-1, *[1] * (fresh_x.dim() - 1)), bx.to(fresh_x.dtype), fresh_x)
    y = fresh_y
    if fresh_y is not None and by is not None:
        y = torch.where(take.view(-1, *[1] * (fresh_y.dim() - 1)), by, fresh_y)
    return x, y
