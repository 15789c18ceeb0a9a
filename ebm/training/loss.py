"""The contrastive objective of Algorithm 1 with the L2 energy penalty."""

from __future__ import annotations

import torch

CURVE_KEYS = ("loss", "e_pos", "e_neg")  # the stats a training curve keeps and the divergence guard checks


def contrastive_loss(e_pos: torch.Tensor, e_neg: torch.Tensor, l2_coeff: float = 1.0) -> tuple[torch.Tensor, dict]:
    """mean E(x+) - mean E(x-) + alpha (mean E(x+)^2 + mean E(x-)^2).

    ``e_neg`` must come from negatives that carry no graph back through the
    chain (the sampler returns detached states), so no gradient flows into it
    except through the energy network.
    """
    ml = e_pos.mean() - e_neg.mean()
    l2 = (e_pos**2).mean() + (e_neg**2).mean()
    loss = ml + l2_coeff * l2
    stats = {"loss": loss.item(), "loss_ml": ml.item(), "loss_l2": l2.item(),
             "e_pos": e_pos.mean().item(), "e_neg": e_neg.mean().item()}
    return loss, stats
