"""Self-describing checkpoints: the weights beside the name of a registered builder and its arguments,
so ``unpack`` rebuilds any network the pipeline trains from the dict alone, with no outside knowledge.

    ckpt = pack("energy", {"network": "digits_resnet", "in_channels": 1, "label_dim": 10}, model, step=1200)
    model = unpack(ckpt)

Builders register by name where their networks are defined (``@BUILDERS.register("energy")``). A checkpoint
holds only tensors, numbers, strings, lists and dicts, so ``torch.load(weights_only=True)`` reads it.
"""

from __future__ import annotations

from torch import nn

from ebm.registry import Registry

BUILDERS = Registry("checkpoint kind")  # kind -> fn(**args): the untrained network of that kind's checkpoints


def pack(kind: str, args: dict, model: nn.Module, **meta) -> dict:
    """A checkpoint of ``model``: its builder's name and arguments, its weights (on the CPU), and ``meta``."""
    if kind not in BUILDERS:
        raise KeyError(f"no builder registered for checkpoint kind {kind!r} (known: {', '.join(sorted(BUILDERS))})")
    weights = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return {"kind": kind, "args": dict(args), "model": weights, **meta}


def unpack(ckpt: dict) -> nn.Module:
    """The network of a ``pack``-ed checkpoint, its weights loaded, in eval mode. KeyError: an unknown kind;
    TypeError / RuntimeError: arguments or weights that do not fit the builder."""
    model = BUILDERS[ckpt["kind"]](**ckpt["args"])
    model.load_state_dict(ckpt["model"])
    return model.eval()
