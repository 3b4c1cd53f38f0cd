"""Reference timings: diffusers' UNet2DConditionModel and AutoencoderKL in eager PyTorch, at the
same sizes and settings as the harness benchmarks (bench.unet / bench.vae), for a side-by-side
comparison on the same machine and thread count. Optional: needs PyTorch and the diffusers source
on PYTHONPATH (never committed). Random weights; timing only. Prints markdown table rows.

  PYTHONPATH=/path/to/diffusers/src python3 bench/reference/diffusers_unet.py --fixtures test/fixtures \
      [--device cpu|cuda] [--dtype float32|bfloat16] [--threads N] [--quick]
"""
import argparse
import json
import os
import re
import time

import torch
from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel


def _status_mb(field):
    m = re.search(field + r":\s+(\d+) kB", open("/proc/self/status").read())
    return int(m.group(1)) / 1024 if m else float("nan")


class CpuPeak:
    """Resident-size peak of the timed code alone, measured as the harness does (bench_util.cc):
    reset the high-water mark (Linux: "5" to /proc/self/clear_refs), then VmHWM minus the resident
    size at the start. NaN where the reset is not allowed."""

    def __init__(self):
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.base = _status_mb("VmRSS")
        except OSError:
            self.base = float("nan")

    def peak(self):
        return _status_mb("VmHWM") - self.base


def timed(device, fn, min_iters, budget_s):
    cpu_peak = CpuPeak() if device.type == "cpu" else None
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    start = time.perf_counter()
    while len(times) < min_iters or (time.perf_counter() - start) < budget_s:
        t0 = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1000)
        if len(times) >= min_iters and sum(times) > budget_s * 1000:
            break
        if len(times) >= 100:
            break
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else cpu_peak.peak()
    return sum(times) / len(times), min(times), len(times), peak


def row(name, r, note=""):
    mean, mn, n, peak = r
    print(f"| diffusers {name} | {mean:.1f} | {mn:.1f} | {n} | {peak:.0f} | {note} |", flush=True)


def count_ops(what, fn, device, top=15):
    """The dispatcher ops (every level, autograd's backward functions too) one call of fn runs, as
    the harness's bench::count_ops counts them: launch-bound steps are as fast as the ops they launch."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    counts = {}
    for ev in prof.events():
        counts[ev.name] = counts.get(ev.name, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    total = sum(counts.values())
    aten = sum(n for k, n in counts.items() if k.startswith("aten::"))
    lines = [f"\nops in {what}: {total} (aten:: {aten})"] + [f"  {n}  {k}" for k, n in ranked[:top]]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="only the forward passes")
    ap.add_argument("--latents", default="32,64", help="UNet latent sizes, comma separated")
    ap.add_argument("--no-vae", action="store_true")
    ap.add_argument("--opcount", action="store_true",
                    help="count the ops of one batch-1 step at the largest latent (as the harness's DOC_ANON_BENCH_OPCOUNT=1)")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    dtype = getattr(torch, a.dtype)
    cfg = json.load(open(os.path.join(a.fixtures, "manifests", "sd2_inpainting_unet.json")))["config"]
    torch.manual_seed(0)
    unet = UNet2DConditionModel.from_config(cfg).to(device, dtype).eval()
    print(f"\n### diffusers reference (torch {torch.__version__}, {device}, {a.dtype}, threads {torch.get_num_threads()})\n")
    print("| case | mean ms | min ms | iters | peak MB | note |\n|---|---:|---:|---:|---:|---|")
    batches = [1, 8] if device.type == "cuda" else [1]
    latents = [int(v) for v in a.latents.split(",")]
    op_counts = []  # printed after the table
    for b in batches:
        for hw in latents:
            x = torch.randn(b, cfg["in_channels"], hw, hw, device=device, dtype=dtype)
            t = torch.full((b,), 500, device=device, dtype=torch.long)
            e = torch.randn(b, 577, 1024, device=device, dtype=dtype)

            def fwd():
                with torch.inference_mode():
                    unet(x, t, encoder_hidden_states=e)

            r = timed(device, fwd, 2, 2.0)
            row(f"sd2 b{b} latent {hw}x{hw} forward", r, f"{1000 / r[0]:.2f} it/s" if device.type == "cuda" else "")
            if not a.quick:
                def fb():
                    unet.zero_grad(set_to_none=True)
                    unet(x, t, encoder_hidden_states=e).sample.float().pow(2).mean().backward()

                row(f"sd2 b{b} latent {hw}x{hw} forward+backward", timed(device, fb, 1, 2.0))
                unet.zero_grad(set_to_none=True)  # later cases' peak memory must not hold these gradients
            if a.opcount and b == 1 and hw == latents[-1]:
                op_counts.append(count_ops(f"sd2 b{b} latent {hw}x{hw} forward (inference mode)", fwd, device))
                if not a.quick:
                    op_counts.append(count_ops(f"sd2 b{b} latent {hw}x{hw} forward+backward", fb, device))
    for text in op_counts:
        print(text, end="")
    del unet
    if a.no_vae:
        return
    vcfg = json.load(open(os.path.join(a.fixtures, "manifests", "sd2_vae.json")))["config"]
    vae = AutoencoderKL.from_config(vcfg).to(device, dtype).eval()
    for px in (256, 512):
        x = torch.rand(1, 3, px, px, device=device, dtype=dtype) * 2 - 1
        z = torch.randn(1, 4, px // 8, px // 8, device=device, dtype=dtype)
        with torch.inference_mode():
            row(f"sd2 {px}px encode", timed(device, lambda: vae.encode(x), 2, 2.0))
            row(f"sd2 {px}px decode", timed(device, lambda: vae.decode(z), 2, 2.0))


if __name__ == "__main__":
    main()
