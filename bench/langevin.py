"""Langevin sampling speed: our sampler vs the common naive pattern, and against the machine's dense rate.

    python -m bench.langevin                       # ResNet32Large, batch 128, medians of 5 rounds
    python -m bench.langevin --batch 32 --steps 2  # a couple of minutes on 2 CPU cores

Prints one table, every number measured in this run on this machine:
  * naive: what peers' ports do: ``E.sum().backward()`` through all weights to get dE/dx,
    with ``torch.nn.utils.spectral_norm`` in train mode (a power iteration on every forward);
    and the same without the power iteration (the weight-gradient pass alone);
  * ours: ``ebm.sampling.langevin`` as the pipeline runs it (dE/dx only, weights frozen, W/sigma
    computed once per chain), in fp32, + channels_last, + bf16 autocast (+ torch.compile with --compile);
  * the dense rate: the larger of a big fp32 matmul and a big channels_last 3x3 conv forward +
    input gradient (and the same in bf16, for the bf16 row), timed here too.
Every sampler and dense op is timed once per round, side by side. s/step, GFLOP/s and "vs naive" use
each sampler's median round. Against the dense rate (the faster dense op of the same dtype, three
back-to-back calls a round): "median" sets the sampler's median round against the dense op's median
round (the same load), "best" the sampler's best round against the dense op's best (the dense rows show
the best rounds).
FLOPs of a step are counted by torch's FlopCounterMode (forward + input-gradient convs and matmuls).
Both samplers run the chain in train mode (dropout on), as training does; ``--mode eval`` times
test-time sampling (no dropout; the naive pattern's SN then no longer updates u either).
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ebm.accel import AccelConfig, accelerate, resolve_device
from ebm.models import build_energy
from ebm.models.resnet import SPECS
from ebm.models.spectral import SNConv2d
from ebm.sampling import LangevinConfig, langevin


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_once(fn, device: torch.device) -> float:
    sync(device)
    t = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - t


def interleaved(fns: dict, device: torch.device, rounds: int) -> dict[str, list[float]]:
    """Seconds per call of each fn in every round (one call of each per round, after one warm-up).

    A shared machine's load drifts by tens of percent within minutes; timing the candidates
    side by side, round after round, lets every one see the same load, so their ratios hold.
    """
    for fn in fns.values():
        fn()
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            times[name].append(time_once(fn, device))
    return times


DENSE_CALLS = 3  # a dense op's round is this many back-to-back calls (a single call is too short to time well)


def repeated(fn, n: int):
    def run():
        for _ in range(n):
            fn()
    return run


def naive_copy(model: nn.Module) -> nn.Module:
    """The same network with torch.nn.utils.spectral_norm convs (u updated on every train-mode forward)."""
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, SNConv2d):
                conv = nn.Conv2d(child.in_channels, child.out_channels, child.kernel_size, child.stride, child.padding,
                                 bias=False).to(child.weight_orig.device)
                conv.weight.data.copy_(child.weight_orig.data)
                setattr(module, name, nn.utils.spectral_norm(conv))
    return model


def naive_step(model, x, cfg: LangevinConfig) -> torch.Tensor:
    """One step of the peers' loop: backward through the parameters, grads left to accumulate."""
    x = (x + cfg.noise_std * torch.randn_like(x)).detach().requires_grad_(True)
    model(x).sum().backward()
    return (x - cfg.step_size * x.grad.clamp(-cfg.grad_clip, cfg.grad_clip)).clamp(0, 1).detach()


def step_flops(model, x) -> int:
    """FLOPs of one sampler step: forward + the input gradient (weights frozen)."""
    x = x.detach().requires_grad_(True)
    with FlopCounterMode(display=False) as fc:
        model(x).sum().backward()
    return fc.get_total_flops()


def dense_ops(device: torch.device, dtype: torch.dtype) -> dict[str, tuple]:
    """A big matmul and a big channels_last 3x3 conv forward + input gradient: name -> (fn, FLOPs)."""
    n = 8192 if device.type == "cuda" else 2048
    a = torch.randn(n, n, device=device, dtype=dtype)
    ops = {f"matmul {n}x{n}x{n}": (lambda: a @ a, 2 * n**3)}
    b, c, s = (256, 256, 32) if device.type == "cuda" else (64, 256, 16)
    x = torch.randn(b, c, s, s, device=device, dtype=dtype).contiguous(memory_format=torch.channels_last)
    x.requires_grad_(True)
    w = torch.randn(c, c, 3, 3, device=device, dtype=dtype).contiguous(memory_format=torch.channels_last) / 50

    def conv():
        return torch.autograd.grad(F.conv2d(x, w, padding=1).sum(), x)

    ops[f"conv3x3 {c}->{c} at {s}x{s}, batch {b}, fwd+dx"] = (conv, 2 * (2 * b * s * s * c * c * 9))
    return ops


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return int(text)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=positive, default=128)
    p.add_argument("--steps", type=positive, default=5,
                   help="rounds: timed Langevin steps per sampler, interleaved (after one warm-up step); medians")
    p.add_argument("--network", default="resnet32_large", choices=list(SPECS))  # the residual image networks
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--compile", action="store_true", help="also time ours with torch.compile (slow to compile on CPU)")
    p.add_argument("--mode", default="train", choices=["train", "eval"], help="train: training chains (dropout on)")
    args = p.parse_args()
    device = resolve_device(args.device)
    torch.manual_seed(0)
    x0 = torch.rand(args.batch, 3, 32, 32, device=device)
    cfg = LangevinConfig(n_steps=1, step_size=10.0, noise_std=0.005, grad_clip=0.01)  # one step a call
    flops = step_flops(build_energy(args.network, 3).to(device).requires_grad_(False), x0)

    train = args.mode == "train"
    samplers = {}  # name -> (one-step fn on its own chain state, dtype)

    def chain_of(step):
        state = {"x": x0.clone()}

        def run():
            state["x"] = step(state["x"])
        return run

    naive = naive_copy(build_energy(args.network, 3)).to(device).train(train)
    samplers["naive: .backward() through weights + SN power iteration per step (fp32)"] = (
        chain_of(lambda x: naive_step(naive, x, cfg)), "fp32")
    # The same chain on our SN layers (no power iteration; W/sigma recomputed as the weights need grads):
    # what the weight-gradient pass alone costs, i.e. the most that skipping it can buy.
    grads = build_energy(args.network, 3).to(device).train(train)
    samplers["naive without SN power iteration: .backward() through weights (fp32)"] = (
        chain_of(lambda x: naive_step(grads, x, cfg)), "fp32")
    variants = [("ours: dE/dx only, weights frozen, W/sigma once per chain (fp32)", AccelConfig()),
                ("ours + channels_last (fp32)", AccelConfig(channels_last=True)),
                ("ours + channels_last + bf16 autocast", AccelConfig(channels_last=True, amp="bf16"))]
    if args.compile:
        variants += [("ours + channels_last + bf16 + torch.compile", AccelConfig(channels_last=True, amp="bf16",
                                                                                 compile=True))]
    for name, accel in variants:
        torch.manual_seed(0)
        _, chain = accelerate(build_energy(args.network, 3).train(train), replace(accel, device=device.type), device)
        samplers[name] = (chain_of(lambda x, chain=chain: langevin(chain, x, cfg, models=(chain,))),
                          "bf16" if accel.amp == "bf16" else "fp32")
    dense = {f"dense {dt}: {name}": (fn, fl, dt) for dt, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16))
             for name, (fn, fl) in dense_ops(device, dtype).items()}
    fns = {name: fn for name, (fn, _) in samplers.items()}
    fns |= {name: repeated(fn, DENSE_CALLS) for name, (fn, _, _) in dense.items()}
    times = interleaved(fns, device, args.steps)
    t = {name: statistics.median(times[name]) for name in samplers}  # a sampler: its median step

    def dense_rate(name, stat):
        return DENSE_CALLS * dense[name][1] / stat(times[name])

    best = {dt: max(dense_rate(n, min) for n in dense if dense[n][2] == dt) for dt in ("fp32", "bf16")}
    median = {dt: max(dense_rate(n, statistics.median) for n in dense if dense[n][2] == dt) for dt in ("fp32", "bf16")}
    threads = f"{torch.get_num_threads()} threads" if device.type == "cpu" else torch.cuda.get_device_name(device)
    print(f"\nLangevin sampling, {args.network} (CIFAR-10 32x32, unconditional), batch {args.batch}, "
          f"median of {args.steps} interleaved rounds, {args.mode} mode; {device} ({threads}); "
          f"{flops / 1e9:.1f} GFLOP per step")
    print(f"| {'sampler':<76} | s/step | steps/s | GFLOP/s | vs naive | of dense, median | of dense, best |")
    print(f"|{'-' * 78}|-------:|--------:|--------:|---------:|-----------------:|---------------:|")
    naive_t = next(iter(t.values()))
    for name, (_, dt) in samplers.items():
        rate = flops / t[name]
        of_best = flops / min(times[name]) / best[dt]  # best round against the dense op's best round
        print(f"| {name:<76} | {t[name]:6.3f} | {1 / t[name]:7.3f} | {rate / 1e9:7.1f} | {naive_t / t[name]:7.2f}x | "
              f"{rate / median[dt]:16.0%} | {of_best:14.0%} |")
    for name in dense:  # the best rounds
        print(f"| {name:<76} |        |         | {dense_rate(name, min) / 1e9:7.1f} |          |"
              "                  |                |")


if __name__ == "__main__":
    main()
