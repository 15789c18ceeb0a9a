"""Adam with the original's per-element gradient clipping (custom_adam.py:150-166).

Before each update every gradient element is clipped to
+-(3 * sqrt(v_hat) + 0.1), where v_hat is the bias-corrected second moment
*before* this step (0 on the first step, so the first bound is 0.1).
"""

from __future__ import annotations

import torch


class ClippedAdam(torch.optim.Optimizer):
    def __init__(self, params, lr=3e-4, betas=(0.0, 0.999), eps=1e-8, clip_sigmas=3.0, clip_floor=0.1):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, clip_sigmas=clip_sigmas, clip_floor=clip_floor))

    @torch.no_grad()
    def step(self, closure=None, lr_scale: float = 1.0):  # lr_scale: a schedule's factor on every group's lr
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"] = 0
                    st["m"] = torch.zeros_like(p)
                    st["v"] = torch.zeros_like(p)
                m, v = st["m"], st["v"]
                t = st["step"]
                v_hat_prev = v / (1 - b2**t) if t > 0 else v
                bound = group["clip_sigmas"] * v_hat_prev.sqrt() + group["clip_floor"]
                g = torch.maximum(torch.minimum(p.grad, bound), -bound)
                t += 1
                st["step"] = t
                m.mul_(b1).add_(g, alpha=1 - b1)
                v.mul_(b2).addcmul_(g, g, value=1 - b2)
                m_hat = m / (1 - b1**t)
                v_hat = v / (1 - b2**t)
                p.addcdiv_(m_hat, v_hat.sqrt().add_(group["eps"]), value=-group["lr"] * lr_scale)
