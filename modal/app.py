"""Modal app for doc-anon-torch: GPU training (VAE, DiffUTE UNet) and an inference endpoint.

The containers run the package's own CLI unchanged: `doc-anon train-vae|train-unet --nproc <gpus>`
(NCCL across the container's GPUs) and `doc-anon serve`. Data and checkpoints live in Cloudflare R2
(credentials from the Modal secret `doc-anon-r2`). A preempted or retried attempt resumes from the
latest checkpoint in R2 (`--resume`); the endpoint's bearer token and replacement secret come from
the Modal secret `doc-anon-serve`.

    modal run --detach modal/app.py::train --kind unet --gpu H100 --count 8 --config configs/training/unet.yaml
    modal deploy modal/app.py        # the `anonymize` web endpoint (bearer token from `doc-anon-serve`)
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
NODE_MAJOR = 24
R2_SECRET = "doc-anon-r2"
R2_KEYS = ["R2_ACCOUNT_ID", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY"]
# `doc-anon serve` reads both: the bearer token (unset would mean no auth on a public URL) and the
# replacement secret, shared so every container gives a value the same fake.
SERVE_SECRET = "doc-anon-serve"
SERVE_KEYS = ["DOC_ANON_TOKEN", "DOC_ANON_SECRET"]
TRAIN_TIMEOUT_S = 24 * 3600
TRAIN_RETRIES = 4
# Physical CPU cores reserved per GPU (Modal's default reservation is 0.125 cores a container). Each
# rank prepares its batches on the CPU (libuv's 4 threads, 3 for data, plus the main thread): at
# unet.yaml's size a rank needs ~64-80 examples/s per H100. An estimate from one rank's measurement
# (docs/benchmarks.md, "Training data pipeline"), not measured with 8 ranks.
TRAIN_CPU_PER_GPU = 4.0
# After Modal's interrupt (preemption, cancellation) the ranks get this long to finish their step
# and write (and push to R2) a checkpoint, within the grace period Modal gives a container.
STOP_GRACE_S = 25
SERVE_GPU = "L4"
REPO = "/app"
# Training output outside the image: empty in every new container, so `--resume` can only find the
# checkpoints in R2 (a local one would win over R2 and roll the run back).
RUNS_DIR = "/runs"
KINDS = ("vae", "unet")
LIBTORCH_EXPR = "$(python -c 'import os, torch; print(os.path.dirname(torch.__file__))')"

# Build steps, kept as data so tests can check them without Modal's servers.
ROOT = Path(__file__).resolve().parent.parent
APT_PACKAGES = ["curl", "ca-certificates", "cmake", "ninja-build", "g++", "git", "libgloo-dev"]
NODE_COMMANDS = [
    f"curl -fsSL https://deb.nodesource.com/setup_{NODE_MAJOR}.x | bash -",
    "apt-get install -y nodejs",
]
# Layers from the slowest to rebuild to the cheapest, each with only what its step reads, so an edit
# rebuilds from its own layer on: the native core (minutes of C++ against libtorch) sees only the
# lockfile and native sources; TypeScript and the runtime files come after it.
# (A trailing / marks a folder.)
NATIVE_INPUTS = ["package.json", "package-lock.json", "CMakeLists.txt", "native/", "scripts/"]
# (web/: `npm run build:ts` also builds the review page into lib/web.)
TS_INPUTS = ["tsconfig.json", "tsconfig.build.json", "src/", "web/"]
# The rest of what the package ships (package.json "files", lib/ being built here), read only at
# run time. Nothing else of the checkout (runs, data, weights, docs) goes into the image.
RUNTIME_INPUTS = ["configs/", "assets/", "schemas/"]
# `npm ci` without scripts, then the root package's own `install` (native) and `prepare` (tsc)
# scripts as separate steps: `prepare` needs src/, which must not invalidate the native layer.
NATIVE_COMMANDS = [
    f"cd {REPO} && npm ci --ignore-scripts --no-audit --no-fund",
    f"cd {REPO} && LIBTORCH={LIBTORCH_EXPR} bash scripts/build-native.sh",
]
TS_COMMANDS = [f"cd {REPO} && npm run build:ts"]
# No GPU while the image builds: check what the addon was built with, not what it can see. A CPU
# libtorch or missing NCCL headers would otherwise only show on the first (paid) 8-GPU run.
# One line: each command becomes a Dockerfile RUN line.
NATIVE_CHECK_PY = "; ".join([
    'import json, sys',
    'i = json.load(open(sys.argv[1]))',
    'bad = [m for ok, m in ((i["cuda"]["builtWithCuda"], "is built against a CPU-only libtorch"),'
    ' (i["nccl"], "is built without NCCL (no multi-GPU training)")) if not ok]',
    'sys.exit("native build check failed: the addon " + "; it ".join(bad) + ": " + json.dumps(i)) if bad'
    ' else print("native build ok: libtorch", i["libtorch"], "with CUDA and NCCL")',
])
CHECK_COMMANDS = [
    f"node {REPO}/lib/cli/main.js info --json > /tmp/doc-anon-info.json"
    f" && python -c {shlex.quote(NATIVE_CHECK_PY)} /tmp/doc-anon-info.json",
]
# What never goes into the image, as dockerignore patterns relative to the repo root: build
# outputs, local runs (a baked-in checkpoint would win over R2 on resume), data, weights, caches.
# Folders are added one by one (above), so a top-level entry also documents why the root is not
# added; `**/` entries apply inside every folder added.
IGNORE = [
    "node_modules", "build", "build-*", "lib", "lib-check", "coverage", ".git", ".libtorch", ".libtorch.partial",
    "runs", "data", "weights", "tmp", ".device-node", ".device-node.partial", ".device-fixtures", ".ref", ".cache",
    "**/node_modules", "**/.cache", "**/__pycache__", "**/*.pyc", "**/*.log", "**/.DS_Store",
]


def ignore_within(folder: str) -> list[str]:
    """IGNORE as seen from inside `folder` (patterns are relative to the folder added): the `**/`
    ones, and those under the folder itself. `data` or `build-*` must not hit src/training/data or
    scripts/build-native.sh."""
    prefix = folder.rstrip("/") + "/"
    return [p if p.startswith("**/") else p[len(prefix):] for p in IGNORE if p.startswith(("**/", prefix))]


def _add_inputs(img: modal.Image, names: list[str], copy: bool) -> modal.Image:
    for name in names:
        if name.endswith("/"):
            img = img.add_local_dir(str(ROOT / name), f"{REPO}/{name.rstrip('/')}", copy=copy, ignore=ignore_within(name))
        else:
            img = img.add_local_file(str(ROOT / name), f"{REPO}/{name}", copy=copy)
    return img


image = modal.Image.from_registry("nvidia/cuda:12.8.1-devel-ubuntu22.04", add_python="3.11")
image = image.apt_install(*APT_PACKAGES).pip_install(TORCH_SPEC, index_url=TORCH_INDEX).run_commands(*NODE_COMMANDS)
image = _add_inputs(image, NATIVE_INPUTS, copy=True).run_commands(*NATIVE_COMMANDS)
image = _add_inputs(image, TS_INPUTS, copy=True).run_commands(*TS_COMMANDS, *CHECK_COMMANDS)
image = image.env({"DOC_ANON_LOG_FORMAT": "json", "NODE_ENV": "production"})
# Last, and added at container start (no build step may follow): config edits rebuild nothing.
image = _add_inputs(image, RUNTIME_INPUTS, copy=False)

app = modal.App(APP_NAME, image=image)
r2 = modal.Secret.from_name(R2_SECRET, required_keys=R2_KEYS)
serve_secret = modal.Secret.from_name(SERVE_SECRET, required_keys=SERVE_KEYS)


def train_command(kind: str, config: str, gpus: int, max_steps: int | None = None, out: str | None = None) -> list[str]:
    """The exact CLI a training container runs (resumes from R2 when a checkpoint exists)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if gpus < 1:
        raise ValueError("gpus must be >= 1")
    cmd = ["node", f"{REPO}/lib/cli/main.js", f"train-{kind}", "--config", config, "--device", "cuda",
           "--nproc", str(gpus), "--resume", "--out", out or f"{RUNS_DIR}/{kind}"]
    if max_steps is not None:
        cmd += ["--max-steps", str(max_steps)]
    return cmd


# doc-anon's exit code for bad input (config, missing sources, a diverged recipe): a retry would
# fail the same way on the same GPUs, so it is returned instead of raised (Modal retries raises).
FINAL_EXIT = 2


def _run(cmd: list[str], cwd: str = REPO) -> int:
    """Runs the CLI. On Modal's interrupt the launcher gets SIGTERM and time to stop its ranks with a
    checkpoint (subprocess.run would SIGKILL it 0.25 s after the interrupt), then the interrupt goes
    on; another non-zero exit raises. Either way Modal retries, and the retry resumes from R2.
    FINAL_EXIT is returned: nothing a retry could change."""
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
    if code == FINAL_EXIT:
        print(f"doc-anon exited {code} (bad config, missing sources or diverged: see above); not retried", flush=True)
        return code
    if code != 0:
        raise subprocess.CalledProcessError(code, cmd)
    return 0


@app.function(gpu="H100:8", cpu=8 * TRAIN_CPU_PER_GPU, secrets=[r2], timeout=TRAIN_TIMEOUT_S,
              retries=modal.Retries(max_retries=TRAIN_RETRIES, backoff_coefficient=1.0, initial_delay=10.0))
def train_vae(config: str = "configs/training/vae.yaml", gpus: int = 8, max_steps: int | None = None) -> int:
    """VAE fine-tuning (recon + beta*KL + LPIPS) on `gpus` GPUs of this container; the CLI's exit code."""
    return _run(train_command("vae", config, gpus, max_steps))


@app.function(gpu="H100:8", cpu=8 * TRAIN_CPU_PER_GPU, secrets=[r2], timeout=TRAIN_TIMEOUT_S,
              retries=modal.Retries(max_retries=TRAIN_RETRIES, backoff_coefficient=1.0, initial_delay=10.0))
def train_unet(config: str = "configs/training/unet.yaml", gpus: int = 8, max_steps: int | None = None) -> int:
    """DiffUTE UNet training on `gpus` GPUs of this container; the CLI's exit code."""
    return _run(train_command("unet", config, gpus, max_steps))


@app.local_entrypoint()
def train(kind: str = "unet", gpu: str = "H100", count: int = 8, config: str = "", max_steps: int = 0) -> None:
    """`modal run --detach modal/app.py::train --kind vae --gpu A100-80GB --count 4`: GPU type and count per run."""
    functions = {"vae": train_vae, "unet": train_unet}
    if kind not in functions:
        raise ValueError(f"--kind must be one of {', '.join(functions)}, got {kind!r}")
    if ":" in gpu:
        raise ValueError(f"--gpu is the GPU type only (e.g. H100), give the number with --count; got {gpu!r}")
    if count < 1:
        raise ValueError(f"--count must be >= 1, got {count}")
    cfg = config or f"configs/training/{kind}.yaml"
    code = functions[kind].with_options(gpu=f"{gpu}:{count}", cpu=count * TRAIN_CPU_PER_GPU).remote(cfg, count, max_steps or None)
    if code:
        raise SystemExit(f"train-{kind} failed with exit code {code} (not retried: fix the config or data; the log says what)")


SERVE_PORT = 8080
SERVE_COMMAND = ["node", f"{REPO}/lib/cli/main.js", "serve", "--host", "0.0.0.0", "--port", str(SERVE_PORT),
                 "--config", f"{REPO}/configs/inference/modal.yaml"]


@app.function(gpu=SERVE_GPU, secrets=[r2, serve_secret], timeout=600, min_containers=0, scaledown_window=300)
@modal.concurrent(max_inputs=8)
@modal.web_server(port=SERVE_PORT, startup_timeout=600)
def anonymize() -> None:
    """The HTTP API of `doc-anon serve` (same request schema and limits); models load once per
    container from the r2:// artifacts named in configs/inference/modal.yaml. Requests need
    `Authorization: Bearer $DOC_ANON_TOKEN`."""
    # The URL is public: never start the server without its token (serve would run without auth).
    missing = [k for k in SERVE_KEYS if not os.environ.get(k)]
    if missing:
        raise RuntimeError(f"the {SERVE_SECRET} secret must set {', '.join(missing)}")
    subprocess.Popen(SERVE_COMMAND, cwd=REPO)
