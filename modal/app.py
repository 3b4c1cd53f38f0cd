"""Modal app for doc-anon-torch: GPU training (VAE, DiffUTE UNet) and an inference endpoint.

The containers run the package's own CLI unchanged: `doc-anon train-vae|train-unet --nproc <gpus>`
(NCCL across the container's GPUs) and `doc-anon serve`. Data and checkpoints live in Cloudflare R2
(credentials from the Modal secret `doc-anon-r2`). A preempted or retried attempt resumes from the
latest checkpoint in R2 (`--resume`).

    modal run modal/app.py::train --kind unet --gpu H100 --count 8 --config configs/training/unet.yaml
    modal deploy modal/app.py        # the `anonymize` web endpoint
"""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
from pathlib import Path

import modal

APP_NAME = "doc-anon-torch"
# The CUDA PyTorch whose libtorch the native addon is built against (LIBTORCH below).
TORCH_SPEC = "torch==2.13.0"
TORCH_INDEX = "https://download.pytorch.org/whl/cu128"
NODE_MAJOR = 20
R2_SECRET = "doc-anon-r2"
TRAIN_TIMEOUT_S = 24 * 3600
TRAIN_RETRIES = 4
# After Modal's interrupt (preemption, cancellation) the ranks get this long to finish their step
# and write (and push to R2) a checkpoint, within the grace period Modal gives a container.
STOP_GRACE_S = 25
SERVE_GPU = "L4"
REPO = "/app"
LIBTORCH_EXPR = "$(python -c 'import os, torch; print(os.path.dirname(torch.__file__))')"

# Build steps, kept as data so tests can check them without Modal's servers.
APT_PACKAGES = ["curl", "ca-certificates", "cmake", "ninja-build", "g++", "git", "libgloo-dev"]
IMAGE_COMMANDS = [
    f"curl -fsSL https://deb.nodesource.com/setup_{NODE_MAJOR}.x | bash -",
    "apt-get install -y nodejs",
    f"cd {REPO} && LIBTORCH={LIBTORCH_EXPR} npm ci --no-audit --no-fund",
]
IGNORE = ["node_modules", "build", "build-*", ".libtorch", "lib", ".git", "coverage"]

image = (
    modal.Image.from_registry("nvidia/cuda:12.8.1-devel-ubuntu22.04", add_python="3.11")
    .apt_install(*APT_PACKAGES)
    .pip_install(TORCH_SPEC, index_url=TORCH_INDEX)
    .add_local_dir(str(Path(__file__).resolve().parent.parent), REPO, copy=True, ignore=IGNORE)
    .run_commands(*IMAGE_COMMANDS)
    .env({"DOC_ANON_LOG_FORMAT": "json", "NODE_ENV": "production"})
)

app = modal.App(APP_NAME, image=image)
r2 = modal.Secret.from_name(R2_SECRET, required_keys=["R2_ACCOUNT_ID", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY"])


def train_command(kind: str, config: str, gpus: int, max_steps: int | None = None, out: str | None = None) -> list[str]:
    """The exact CLI a training container runs (resumes from R2 when a checkpoint exists)."""
    if kind not in ("vae", "unet"):
        raise ValueError(f"kind must be 'vae' or 'unet', got {kind!r}")
    if gpus < 1:
        raise ValueError("gpus must be >= 1")
    cmd = ["node", f"{REPO}/lib/cli/main.js", f"train-{kind}", "--config", config, "--device", "cuda",
           "--nproc", str(gpus), "--resume"]
    if max_steps is not None:
        cmd += ["--max-steps", str(max_steps)]
    if out is not None:
        cmd += ["--out", out]
    return cmd


def _run(cmd: list[str], cwd: str = REPO) -> None:
    """Runs the CLI. On Modal's interrupt the launcher gets SIGTERM and time to stop its ranks with a
    checkpoint (subprocess.run would SIGKILL it 0.25 s after the interrupt), then the interrupt goes
    on; a non-zero exit raises. Either way Modal retries, and the retry resumes from R2."""
    print("+", shlex.join(cmd), flush=True)
    proc = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, "NCCL_DEBUG": os.environ.get("NCCL_DEBUG", "WARN")})
    try:
        code = proc.wait()
    except BaseException:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    if code != 0:
        raise subprocess.CalledProcessError(code, cmd)


@app.function(gpu="H100:8", secrets=[r2], timeout=TRAIN_TIMEOUT_S,
              retries=modal.Retries(max_retries=TRAIN_RETRIES, backoff_coefficient=1.0, initial_delay=10.0))
def train_vae(config: str = "configs/training/vae.yaml", gpus: int = 8, max_steps: int | None = None) -> None:
    """VAE fine-tuning (recon + beta*KL + LPIPS) on `gpus` GPUs of this container."""
    _run(train_command("vae", config, gpus, max_steps))


@app.function(gpu="H100:8", secrets=[r2], timeout=TRAIN_TIMEOUT_S,
              retries=modal.Retries(max_retries=TRAIN_RETRIES, backoff_coefficient=1.0, initial_delay=10.0))
def train_unet(config: str = "configs/training/unet.yaml", gpus: int = 8, max_steps: int | None = None) -> None:
    """DiffUTE UNet training on `gpus` GPUs of this container."""
    _run(train_command("unet", config, gpus, max_steps))


@app.local_entrypoint()
def train(kind: str = "unet", gpu: str = "H100", count: int = 8, config: str = "", max_steps: int = 0) -> None:
    """`modal run modal/app.py::train --kind vae --gpu A100-80GB --count 4`: GPU type and count per run."""
    fn = {"vae": train_vae, "unet": train_unet}[kind]
    cfg = config or f"configs/training/{kind}.yaml"
    fn.with_options(gpu=f"{gpu}:{count}").remote(cfg, count, max_steps or None)


SERVE_PORT = 8080
SERVE_COMMAND = ["node", f"{REPO}/lib/cli/main.js", "serve", "--host", "0.0.0.0", "--port", str(SERVE_PORT),
                 "--config", f"{REPO}/configs/inference/modal.yaml"]


@app.function(gpu=SERVE_GPU, secrets=[r2], timeout=600, min_containers=0, scaledown_window=300)
@modal.concurrent(max_inputs=8)
@modal.web_server(port=SERVE_PORT, startup_timeout=600)
def anonymize() -> None:
    """The HTTP API of `doc-anon serve` (same request schema and limits); models load once per
    container from the r2:// artifacts named in configs/inference/modal.yaml."""
    subprocess.Popen(SERVE_COMMAND, cwd=REPO)
