"""Reference timings for bench/train-step.ts: one optimizer step of the VAE (with LPIPS) or the
DiffUTE UNet written in eager PyTorch + diffusers, on the same case spec (architectures, sizes,
loss weights, optimizer, EMA, threads, steps) as our trainer, for a side-by-side on the same
machine. Optional: needs PyTorch and the diffusers source on PYTHONPATH (never committed). Random
weights and random data; timing only.

The step is the one native/src/train does, op for op where it matters:
  zero grads (set to None) -> forward + loss -> backward -> loss terms to Python floats
  -> clip_grad_norm_(max_norm) -> torch.optim.AdamW (foreach/fused left at their defaults: on the
  CPU that is the per-tensor loop) -> EMA lerp_ of the trainable weights -> zero grads.
  VAE:  recon = sum_{c,h,w} |x_hat - x| averaged over the batch, + beta * KL (summed per sample,
        batch mean) + lambda * LPIPS (v0.1 VGG16, written out below; per-sample distance, batch mean).
        The encoder runs under no_grad when none of its weights train (decoder-only fine-tuning).
  UNet: frozen VAE encodes the image and the masked image (posterior samples * scaling factor),
        DDPM add_noise at uniform timesteps, frozen TrOCR-shaped ViT glyph encoder -> context
        (conditioning dropout), epsilon / v target, MSE in float32.
Each step draws its data (uint8 NHWC images, a box per sample, glyph pixels) at random, converted
as ours does (permute, /127.5 - 1).

  PYTHONPATH=.ref python3 bench/reference/train_step.py --case CASE.json
      (CASE.json as written by `node -r ./bench/register-ts.js bench/train-step.ts --write-cases DIR`;
      the TS bench runs this itself with --reference.)

Prints one `@@RESULT {json}` line on stdout (the TS bench reads it) and progress on stderr.
"""
import argparse
import gzip
import json
import math
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load as st_load
from safetensors.torch import load_file

from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
from diffusers.schedulers.scheduling_ddpm import DDPMScheduler

# ------------------------------------------------------------------------------------------------
# LPIPS v0.1 with the VGG16 trunk, as the lpips package computes it (lpips.LPIPS(net='vgg')).

VGG16 = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512]  # 0: max-pool
SLICE_ENDS = [3, 8, 15, 22, 29]  # relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 in features.N indices


class Lpips(nn.Module):
    def __init__(self, backbone, heads):
        super().__init__()
        layers, idx, cin = {}, 0, 3
        for v in VGG16:
            if v == 0:
                idx += 1
                continue
            layers[str(idx)] = nn.Conv2d(cin, v, 3, padding=1)
            cin, idx = v, idx + 2
        self.features = nn.ModuleDict(layers)
        self.lins = nn.ModuleList([nn.Conv2d(c, 1, 1, bias=False) for c in (64, 128, 256, 512, 512)])
        self.register_buffer("shift", torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1))
        with open(backbone, "rb") as f:
            raw = f.read()
        sd = st_load(gzip.decompress(raw) if backbone.endswith(".gz") else raw)
        self.features.load_state_dict({k[len("features."):]: v for k, v in sd.items() if k.startswith("features.")})
        lin = load_file(heads)
        for k in range(5):
            self.lins[k].weight.data.copy_(lin[f"lin{k}.model.1.weight"])
        for p in self.parameters():
            p.requires_grad_(False)
        self.eval()

    def slices(self, x):
        outs, idx, s = [], 0, 0
        for v in VGG16:
            if v == 0:
                x = F.max_pool2d(x, 2, 2)
                idx += 1
            else:
                x = F.relu(self.features[str(idx)](x))
                idx += 2
            if s < 5 and idx - 1 == SLICE_ENDS[s]:
                outs.append(x)
                s += 1
                if s == 5:
                    break
        return outs

    def forward(self, in0, in1):
        o0 = self.slices((in0 - self.shift) / self.scale)
        o1 = self.slices((in1 - self.shift) / self.scale)
        unit = lambda f: f / (torch.sqrt(torch.sum(f**2, dim=1, keepdim=True)) + 1e-10)
        dist = 0
        for k in range(5):
            dist = dist + self.lins[k]((unit(o0[k]) - unit(o1[k])) ** 2).mean([2, 3], keepdim=True)
        return dist


# ------------------------------------------------------------------------------------------------
# TrOCR's encoder (transformers ViTModel, pre-LN, no pooler), frozen: the glyph conditioning.


class ViTLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, self.heads = c["hidden_size"], c["num_attention_heads"]
        eps = c.get("layer_norm_eps", 1e-12)
        bias = c.get("qkv_bias", True)
        self.ln1, self.ln2 = nn.LayerNorm(d, eps=eps), nn.LayerNorm(d, eps=eps)
        self.q, self.k, self.v = nn.Linear(d, d, bias=bias), nn.Linear(d, d, bias=bias), nn.Linear(d, d, bias=bias)
        self.o = nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, c["intermediate_size"]), nn.Linear(c["intermediate_size"], d)

    def forward(self, x):
        n, t, d = x.shape
        h = self.ln1(x)
        split = lambda y: y.view(n, t, self.heads, d // self.heads).transpose(1, 2)
        a = F.scaled_dot_product_attention(split(self.q(h)), split(self.k(h)), split(self.v(h)))
        x = x + self.o(a.transpose(1, 2).reshape(n, t, d))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class GlyphEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, p, s = c["hidden_size"], c["patch_size"], c["image_size"]
        self.patch = nn.Conv2d(c.get("num_channels", 3), d, p, stride=p)
        self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, 1 + (s // p) ** 2, d) * 0.02)
        self.layers = nn.ModuleList([ViTLayer(c) for _ in range(c["num_hidden_layers"])])
        self.ln = nn.LayerNorm(d, eps=c.get("layer_norm_eps", 1e-12))
        for q in self.parameters():
            q.requires_grad_(False)
        self.eval()

    def forward(self, px):
        x = self.patch(px).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        for layer in self.layers:
            x = layer(x)
        return self.ln(x)


# ------------------------------------------------------------------------------------------------


def model_config(src):
    if "config" not in src:
        raise SystemExit("the reference builds models from random init only (model.config); pretrained folders are not supported")
    return {k: v for k, v in src["config"].items() if not k.startswith("_")}


def to_model_image(u8):
    return u8.permute(0, 3, 1, 2).float().div(127.5).sub(1.0).contiguous()


def build_vae_case(case, gen):
    cfg = case["config"]
    torch.manual_seed(cfg["model"].get("seed", 0))
    vae = AutoencoderKL.from_config(model_config(cfg["model"])).float().train()
    vae.requires_grad_(True)
    if cfg["trainable"] == "decoder":
        vae.encoder.requires_grad_(False)
        vae.quant_conv.requires_grad_(False)
    elif cfg["trainable"] == "frozen_encoder":
        vae.encoder.requires_grad_(False)
    loss = cfg["loss"]
    lpips = Lpips(case["lpipsBackbone"], case["lpipsHeads"]) if loss["lpips_weight"] > 0 else None
    encoder_trains = any(p.requires_grad for p in list(vae.encoder.parameters()) + list(vae.quant_conv.parameters()))
    B, S = cfg["train"]["batch_size"], cfg["data"]["crop_size"]

    def micro():
        x = to_model_image(torch.randint(0, 256, (B, S, S, 3), dtype=torch.uint8, generator=gen))
        with torch.set_grad_enabled(encoder_trains):
            post = vae.encode(x).latent_dist
        z = post.mean
        if loss["sample_posterior"]:
            z = post.mean + post.std * torch.randn(post.mean.shape, generator=gen)
        decoded = vae.decode(z).sample
        diff = decoded.float() - x.float()
        per = diff.pow(2) if loss["recon"] == "mse" else diff.abs()
        recon = per.sum() / B
        kl = post.kl().sum() / B
        lp = lpips(decoded, x).float().mean() if lpips is not None else torch.zeros(())
        total = recon + loss["kl_weight"] * kl + loss["lpips_weight"] * lp
        return {"loss": total, "recon": recon, "kl": kl, "lpips": lp, "latentStd": post.mean.detach().std()}

    return vae, [vae], micro, B


def build_unet_case(case, gen):
    cfg = case["config"]
    torch.manual_seed(cfg["model"].get("seed", 0))
    unet = UNet2DConditionModel.from_config(model_config(cfg["model"])).float().train()
    if cfg.get("gradient_checkpointing"):
        unet.enable_gradient_checkpointing()
    torch.manual_seed(cfg["vae"].get("seed", 0))
    vae = AutoencoderKL.from_config(model_config(cfg["vae"])).float().eval()
    vae.requires_grad_(False)
    torch.manual_seed(cfg["glyph_encoder"].get("seed", 0))
    gcfg = model_config(cfg["glyph_encoder"])
    glyph = GlyphEncoder(gcfg)
    if cfg.get("glyph_projection") is not None:
        raise SystemExit("the reference has no glyph projection (the bench configs do not use one)")
    unet.requires_grad_(True)
    loss = cfg["loss"]
    sched = DDPMScheduler.from_config({**case["scheduler"], **(cfg.get("scheduler") or {}), "prediction_type": loss["prediction"]})
    sf = vae.config.scaling_factor
    B, R, S = cfg["train"]["batch_size"], cfg["data"]["resolution"], gcfg["image_size"]
    T = sched.config.num_train_timesteps

    def micro():
        image = to_model_image(torch.randint(0, 256, (B, R, R, 3), dtype=torch.uint8, generator=gen))
        mask = torch.zeros(B, 1, R, R)
        for b in range(B):  # a text-line-like box per sample
            h = int(torch.randint(R // 16, R // 4, (1,), generator=gen))
            w = int(torch.randint(R // 4, R, (1,), generator=gen))
            y, x = int(torch.randint(0, R - h + 1, (1,), generator=gen)), int(torch.randint(0, R - w + 1, (1,), generator=gen))
            mask[b, 0, y : y + h, x : x + w] = 1
        glyph_px = torch.rand(B, 3, S, S, generator=gen) * 2 - 1
        with torch.no_grad():
            masked = image * (1 - mask) + loss["masked_fill"] * mask
            p_img = vae.encode(image).latent_dist
            p_msk = vae.encode(masked).latent_dist
            shape = p_img.mean.shape
            eps_img, eps_msk, noise = (torch.randn(shape, generator=gen) for _ in range(3))
            timesteps = torch.randint(0, T, (B,), generator=gen)
            drop = torch.rand(B, generator=gen)
            latents = (p_img.mean + p_img.std * eps_img) * sf
            masked_latents = (p_msk.mean + p_msk.std * eps_msk) * sf
            mask_latent = F.interpolate(mask, size=shape[2:], mode="nearest")
            noisy = sched.add_noise(latents, noise, timesteps)
            target = sched.get_velocity(latents, noise, timesteps) if loss["prediction"] == "v_prediction" else noise
            context = glyph(glyph_px)
        if loss["cond_dropout"] > 0:
            context = context * (drop >= loss["cond_dropout"]).float().view(B, 1, 1)
        pred = unet(torch.cat([noisy, mask_latent, masked_latents], 1), timesteps, encoder_hidden_states=context).sample
        mse = F.mse_loss(pred.float(), target.float())
        return {"loss": mse, "mse": mse}

    return unet, [unet, vae, glyph], micro, B


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", required=True, help="case JSON written by bench/train-step.ts")
    a = ap.parse_args()
    case = json.load(open(a.case))
    torch.set_num_threads(case["threads"])
    cfg = case["config"]
    gen = torch.Generator().manual_seed(cfg["train"].get("seed", 0))
    t0 = time.perf_counter()
    model, _keep, micro, B = (build_vae_case if case["model"] == "vae" else build_unet_case)(case, gen)
    params = [p for p in model.parameters() if p.requires_grad]
    o = cfg["optimizer"]
    opt = torch.optim.AdamW(params, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"], weight_decay=o["weight_decay"])
    ema = [p.detach().clone() for p in params] if cfg["ema"]["enabled"] else None
    k = cfg["train"]["grad_accum"]
    max_norm = cfg["train"]["max_grad_norm"]
    create_ms = (time.perf_counter() - t0) * 1000

    phases = {}

    def mark(name, t):
        now = time.perf_counter()
        phases[name] = phases.get(name, 0.0) + (now - t) * 1000
        return now

    def step(i):
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        sums = {}
        for _ in range(k):
            terms = micro()
            t = mark("forward + loss", t)
            (terms["loss"] / k).backward()
            t = mark("backward", t)
            for name, v in terms.items():
                sums[name] = sums.get(name, 0.0) + float(v.detach().double())
        norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm)) if max_norm > 0 else 0.0
        t = mark("clip", t)
        if math.isfinite(norm):
            for g in opt.param_groups:
                g["lr"] = o["lr"]  # the bench's schedule position does not change the cost
            opt.step()
            t = mark("AdamW", t)
            if ema is not None:
                e = cfg["ema"]
                decay = min(e["decay"], (1 + i) / (10 + i)) if e.get("warmup", True) else e["decay"]
                with torch.no_grad():
                    for s, p in zip(ema, params):
                        s.lerp_(p.detach(), 1.0 - decay)
                t = mark("EMA", t)
        opt.zero_grad(set_to_none=True)
        mark("zero grads", t)
        return {n: v / k for n, v in sums.items()}

    times = []
    n = case["warmup"] + case["steps"]
    for i in range(n):
        s0 = time.perf_counter()
        terms = step(i)
        ms = (time.perf_counter() - s0) * 1000
        if not math.isfinite(terms["loss"]):
            raise SystemExit(f"non-finite loss at step {i}")
        print(f"  eager {case['size']} {case['model']} t{case['threads']} step {i + 1}/{n}{' (warm-up)' if i < case['warmup'] else ''}: {ms:.0f} ms", file=sys.stderr, flush=True)
        if i >= case["warmup"]:
            times.append(ms)
        else:
            phases.clear()
    out = {
        "impl": "eager PyTorch",
        "model": case["model"],
        "size": case["size"],
        "threads": torch.get_num_threads(),
        "batch": B * k,
        "steps": len(times),
        "stepMs": times,
        "dataWaitMs": 0,
        "totalMs": sum(times),
        "createMs": create_ms,
        "maxRssKiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "note": f"torch {torch.__version__}",
        # Mean ms per timed step of each part (forward + loss includes drawing the random batch).
        "phases": {name: v / max(1, len(times)) for name, v in phases.items()},
    }
    print("@@RESULT " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
