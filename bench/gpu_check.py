"""GPU check, one command (< 5 min on one GPU): training, bf16 vs fp32 samples, sampling speed.

    python -m bench.gpu_check            # needs CUDA; without it: one line, exit 1
    python -m bench.gpu_check --device cpu --iters 3 --batch 4 --steps 2   # a smoke run of the same code

1. trains ResNet32 (CIFAR-10 sized, conditional) for --iters iterations of Algorithm 1 on random
   data, with bf16 autocast and channels_last (the fast path), and checks the losses stay finite;
2. runs the same Langevin chain (same start, same noise) in fp32 and in bf16 from the trained
   model and compares the samples and their fp32 energies;
3. times Langevin steps of ResNet32Large at batch 128 in fp32 (PyTorch's default TF32 convs)
   and bf16, each with channels_last, and prints the table. Exit 0 when the checks pass.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import torch

from ebm.accel import AccelConfig, accelerate, uniform_on
from ebm.models import build_energy
from ebm.sampling import LangevinConfig, langevin
from ebm.training import TrainConfig, Trainer


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train(device, args) -> tuple[torch.nn.Module, dict, float]:
    torch.manual_seed(0)
    net = build_energy("resnet32", 3, 10)
    fast, chain = accelerate(net, AccelConfig(amp="bf16", channels_last=True), device)
    trainer = Trainer(fast, TrainConfig(batch_size=args.batch), LangevinConfig(n_steps=args.train_steps),
                      uniform_on((3, 32, 32), device), chain_model=chain)
    data = torch.rand(4096, 3, 32, 32, device=device)  # random "images": the check is numerics and speed
    labels = torch.randint(0, 10, (4096,), device=device)
    stats, t = {}, time.perf_counter()
    for i in range(args.iters):
        idx = torch.randint(0, len(data), (args.batch,), device=device)
        stats = trainer.step(data[idx], labels[idx])
        if not all(math.isfinite(v) for v in stats.values()):
            break
    sync(device)
    return net, stats, (time.perf_counter() - t) / max(args.iters, 1)


def same_chain(net, device, args) -> dict:
    """fp32 vs bf16 from one start with one noise sequence; energies of both under the fp32 model."""
    net.eval()
    x0 = torch.rand(args.batch, 3, 32, 32, generator=torch.Generator().manual_seed(1)).to(device)
    y = (torch.arange(args.batch) % 10).to(device)
    cfg = LangevinConfig(n_steps=args.steps)
    out = {}
    for amp in ("none", "bf16"):
        _, chain = accelerate(net, AccelConfig(amp=amp, channels_last=True), device)
        gen = torch.Generator(device).manual_seed(2)
        out[amp] = langevin(lambda z: chain(z, y), x0, cfg, models=(chain,), generator=gen)
    fp32, _ = accelerate(net, AccelConfig(channels_last=True), device)
    with torch.no_grad():
        e = {k: fp32(v, y) for k, v in out.items()}
        e0 = fp32(x0, y)
    diff = (out["bf16"] - out["none"]).abs()
    return {"mean_abs_diff": diff.mean().item(), "max_abs_diff": diff.max().item(),
            "moved": (out["none"] - x0).abs().mean().item(), "e_start": e0.mean().item(),
            "e_fp32": e["none"].mean().item(), "e_bf16": e["bf16"].mean().item()}


def sampling_speed(device, args) -> dict:
    torch.manual_seed(0)
    x0 = torch.rand(args.sample_batch, 3, 32, 32, device=device)
    cfg = LangevinConfig(n_steps=args.steps)
    rates = {}
    for amp in ("none", "bf16"):
        _, chain = accelerate(build_energy("resnet32_large", 3).train(), AccelConfig(amp=amp, channels_last=True),
                              device)
        langevin(chain, x0, cfg, models=(chain,), n_steps=2)  # warm up (cuDNN autotune, allocator)
        sync(device)
        t = time.perf_counter()
        langevin(chain, x0, cfg, models=(chain,))
        sync(device)
        rates[amp] = args.steps / (time.perf_counter() - t)
    return rates


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--iters", type=int, default=300, help="training iterations")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--train-steps", type=int, default=20, help="Langevin steps per training iteration")
    p.add_argument("--steps", type=int, default=60, help="Langevin steps of the fp32/bf16 comparison and timing")
    p.add_argument("--sample-batch", type=int, default=128)
    args = p.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print(f"gpu_check: no CUDA device here (torch {torch.__version__}); nothing checked (exit 1)")
        return 1
    device = torch.device(args.device)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    t0 = time.perf_counter()
    net, stats, t_iter = train(device, args)
    chain = same_chain(net, device, args)
    speed = sampling_speed(device, args)
    checks = {
        "training losses finite": all(math.isfinite(v) for v in stats.values()),
        "bf16 samples within 0.05 (mean |dx|) of fp32": chain["mean_abs_diff"] < 0.05,
        "bf16 samples' fp32 energy within 10% of the chain's descent":
            abs(chain["e_bf16"] - chain["e_fp32"]) <= 0.1 * abs(chain["e_start"] - chain["e_fp32"]) + 1e-3,
    }
    print(f"\nGPU check on {where}, torch {torch.__version__}, {time.perf_counter() - t0:.0f} s")
    print("| what | value |\n|---|---:|")
    print(f"| training: ResNet32 cond, bf16 + channels_last, batch {args.batch}, {args.train_steps} Langevin "
          f"steps/iter | {1 / t_iter:.2f} it/s over {args.iters} its |")
    print(f"| training: final loss / E+ / E- | {stats['loss']:.4f} / {stats['e_pos']:.3f} / {stats['e_neg']:.3f} |")
    print(f"| same chain ({args.steps} steps) bf16 vs fp32: mean / max abs pixel diff | "
          f"{chain['mean_abs_diff']:.4f} / {chain['max_abs_diff']:.3f} (chain moved {chain['moved']:.3f}) |")
    print(f"| fp32 energy: start -> fp32 samples / bf16 samples | {chain['e_start']:.3f} -> {chain['e_fp32']:.3f} / "
          f"{chain['e_bf16']:.3f} |")
    for amp, rate in speed.items():
        name = "fp32 (TF32 convs)" if amp == "none" and device.type == "cuda" else ("fp32" if amp == "none" else amp)
        print(f"| Langevin steps/s, ResNet32Large, batch {args.sample_batch}, {name}, channels_last | {rate:.2f} |")
    print(f"| bf16 speed-up | {speed['bf16'] / speed['none']:.2f}x |")
    for name, ok in checks.items():
        print(f"| check: {name} | {'PASS' if ok else 'FAIL'} |")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
