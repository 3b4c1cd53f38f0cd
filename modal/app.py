"""Modal app for doc-anon-torch: GPU training (VAE, DiffUTE UNet) and an inference endpoint.

Written for the Modal client 1.5.4 (test/modal/modal-signatures.json holds that version's
signatures; the tests hold this file to them). The containers run the package's own CLI unchanged
through modal/container_entry.py: `doc-anon train-vae|train-unet --nproc <gpus>` (NCCL across the
container's GPUs) in its own process group, `doc-anon serve` watched until it listens, and
`doc-anon anonymize` over an R2 prefix. Data and checkpoints live in Cloudflare R2 (credentials from
the Modal secret `doc-anon-r2`). A preempted or retried attempt resumes from the latest checkpoint
in R2 (`--resume`); the endpoint's bearer token and replacement secret come from the Modal secret
`doc-anon-serve`.

    modal run --detach modal/app.py::train --kind unet --gpu H100 --count 8
    modal deploy modal/app.py        # the `anonymize` web endpoint (bearer token from `doc-anon-serve`)
    modal run --detach modal/app.py::batch --input r2://doc-anon/inbox/2026-12 --output r2://doc-anon/outbox/2026-12
"""
from __future__ import annotations

import os
import re
import shlex
import signal
import sys
import tempfile
from pathlib import Path

import modal

APP_NAME = "doc-anon-torch"
REPO = "/app"
# container_entry.py: beside this file on the laptop, in /app/modal in the container (added below).
for _d in (Path(__file__).resolve().parent, Path(REPO) / "modal"):
    if (_d / "container_entry.py").is_file():
        sys.path.insert(0, str(_d))
        break
import container_entry as entry  # noqa: E402

# The CUDA PyTorch whose libtorch the native addon is built against (LIBTORCH below). PyTorch 2.13
# is published for CUDA 12.6 and 13.0 (13.2 experimental), not 12.8 (RELEASE.md's matrix, recorded
# in test/modal/pytorch-cuda-matrix.json). 12.6: the oldest driver it needs (>= 560, or 525+ with
# CUDA's minor-version compatibility) is the most likely to be on Modal's hosts, and it covers
# H100 (sm_90), A100 (sm_80), L4 / L40S (sm_89). The native build takes the CUDA and NCCL headers
# of the wheel's nvidia/* folders first, so the base image's toolkit must be the same CUDA.
TORCH_VERSION = "2.13.0"
TORCH_CUDA = "12.6"
TORCH_SPEC = f"torch=={TORCH_VERSION}"
TORCH_INDEX = "https://download.pytorch.org/whl/cu" + TORCH_CUDA.replace(".", "")
CUDA_BASE_IMAGE = f"nvidia/cuda:{TORCH_CUDA}.3-devel-ubuntu22.04"
# The compiler the project is built and tested with (Ubuntu 22.04's default is GCC 11).
GCC = "12"
# Parallel compile jobs of the native build: Modal's image builder gives a build step a few cores
# and limited memory, and each libtorch translation unit takes ~1.5 GB; all cores could run it out.
NATIVE_BUILD_JOBS = 4
NODE_MAJOR = 24
R2_SECRET = "doc-anon-r2"
R2_KEYS = ["R2_ACCOUNT_ID", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY"]
# `doc-anon serve` reads both: the bearer token (unset would mean no auth on a public URL) and the
# replacement secret, shared so every container gives a value the same fake.
SERVE_SECRET = "doc-anon-serve"
SERVE_KEYS = ["DOC_ANON_TOKEN", "DOC_ANON_SECRET"]
TRAIN_TIMEOUT_S = 24 * 3600  # Modal's maximum (1 s to 24 h); each retry gets its own
TRAIN_RETRIES = 4
# Physical CPU cores reserved per GPU (Modal's default reservation is 0.125 cores a container). Each
# rank prepares its batches on the CPU (libuv's 4 threads, 3 for data, plus the main thread): at
# unet.yaml's size a rank needs ~64-80 examples/s per H100. An estimate from one rank's measurement
# (docs/benchmarks.md, "Training data pipeline"), not measured with 8 ranks.
TRAIN_CPU_PER_GPU = 4.0
# After Modal's interrupt (preemption, cancellation) the launcher and its ranks get this long to
# finish their step and write (and push to R2) a checkpoint, within the 30 s Modal gives.
STOP_GRACE_S = entry.STOP_GRACE_S
SERVE_GPU = "L4"
RUNS_DIR = entry.RUNS_DIR
KINDS = entry.KINDS
LIBTORCH_EXPR = "$(python -c 'import os, torch; print(os.path.dirname(torch.__file__))')"

# Build steps, kept as data so tests can check them without Modal's servers.
ROOT = Path(__file__).resolve().parent.parent
APT_PACKAGES = ["curl", "ca-certificates", "cmake", "ninja-build", f"gcc-{GCC}", f"g++-{GCC}", "git", "libgloo-dev"]
# Beside torch: boto3 for the batch worker's R2 listing and transfers, PyYAML for a pinned serve model.
PIP_PACKAGES = [TORCH_SPEC]
PIP_EXTRA = ["boto3==1.43.11", "PyYAML==6.0.3"]
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
# modal/container_entry.py: what the functions below run (app.py itself is mounted by Modal at /root).
RUNTIME_INPUTS = ["configs/", "assets/", "schemas/", "modal/container_entry.py"]
# `npm ci` without scripts, then the root package's own `install` (native) and `prepare` (tsc)
# scripts as separate steps: `prepare` needs src/, which must not invalidate the native layer.
NATIVE_COMMANDS = [
    f"cd {REPO} && npm ci --ignore-scripts --no-audit --no-fund",
    f"cd {REPO} && CC=gcc-{GCC} CXX=g++-{GCC} DOC_ANON_JOBS={NATIVE_BUILD_JOBS} LIBTORCH={LIBTORCH_EXPR} bash scripts/build-native.sh",
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


image = modal.Image.from_registry(CUDA_BASE_IMAGE, add_python="3.11")
image = image.apt_install(*APT_PACKAGES).pip_install(*PIP_PACKAGES, index_url=TORCH_INDEX).pip_install(*PIP_EXTRA)
image = image.run_commands(*NODE_COMMANDS)
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
    return entry.train_command(kind, config, gpus, max_steps, out)


FINAL_EXIT = entry.FINAL_EXIT
TRAIN_RETRY_POLICY = dict(max_retries=TRAIN_RETRIES, backoff_coefficient=1.0, initial_delay=10.0)


def _train(kind: str, config: str, gpus: int, max_steps: int | None) -> int:
    """One attempt in the container: the launcher and its ranks in one process group, OMP threads
    per rank from the cores per GPU; an interrupt stops the group with a checkpoint and goes on
    (Modal retries), exit 2 is returned (not retried), another failure raises (retried)."""
    return entry.train(kind, config, gpus, max_steps, cpu_per_gpu=TRAIN_CPU_PER_GPU, grace=STOP_GRACE_S)


@app.function(gpu="H100:8", cpu=8 * TRAIN_CPU_PER_GPU, secrets=[r2], timeout=TRAIN_TIMEOUT_S,
              retries=modal.Retries(**TRAIN_RETRY_POLICY))
def train_vae(config: str = "configs/training/vae.modal.yaml", gpus: int = 8, max_steps: int | None = None) -> int:
    """VAE fine-tuning (recon + beta*KL + LPIPS) on `gpus` GPUs of this container; the CLI's exit code."""
    return _train("vae", config, gpus, max_steps)


@app.function(gpu="H100:8", cpu=8 * TRAIN_CPU_PER_GPU, secrets=[r2], timeout=TRAIN_TIMEOUT_S,
              retries=modal.Retries(**TRAIN_RETRY_POLICY))
def train_unet(config: str = "configs/training/unet.modal.yaml", gpus: int = 8, max_steps: int | None = None) -> int:
    """DiffUTE UNet training on `gpus` GPUs of this container; the CLI's exit code."""
    return _train("unet", config, gpus, max_steps)


# Config keys that name weights or data: in a Modal container only r2:// sources exist.
SOURCE_KEYS = ("pretrained", "dataset_dir", "backbone")


def local_sources(config_text: str) -> list[str]:
    """`key: value` lines of a training config whose weights or data are not r2:// (not in the image)."""
    out = []
    for line in config_text.splitlines():
        m = re.match(r"^\s*(?:\w+:\s*\{\s*)?(%s):\s*([^\s#,}]+)" % "|".join(SOURCE_KEYS), line)
        if m and not m.group(2).startswith("r2://"):
            out.append(f"{m.group(1)}: {m.group(2)}")
    return out


@app.local_entrypoint()
def train(kind: str = "unet", gpu: str = "H100", count: int = 8, config: str = "", max_steps: int = 0, wait: bool = True) -> None:
    """`modal run --detach modal/app.py::train --kind vae --gpu A100-80GB --count 4`: GPU type and count per run.

    The run is spawned (`.spawn()`): it belongs to the detached app, not to this client, so a
    laptop that sleeps or a lost connection does not cancel it. Its call id is printed; with
    `--wait` (default) this then follows it to the end and exits with its code."""
    functions = {"vae": train_vae, "unet": train_unet}
    if kind not in functions:
        raise ValueError(f"--kind must be one of {', '.join(functions)}, got {kind!r}")
    if ":" in gpu:
        raise ValueError(f"--gpu is the GPU type only (e.g. H100), give the number with --count; got {gpu!r}")
    if count < 1:
        raise ValueError(f"--count must be >= 1, got {count}")
    cfg = config or f"configs/training/{kind}.modal.yaml"
    local = ROOT / cfg
    if local.is_file():
        bad = local_sources(local.read_text(encoding="utf8"))
        if bad:
            raise ValueError(f"{cfg} reads local weights or data, which are not in the image ({'; '.join(bad)}): "
                             "point them at r2:// artifacts (see configs/training/*.modal.yaml)")
    call = functions[kind].with_options(gpu=f"{gpu}:{count}", cpu=count * TRAIN_CPU_PER_GPU).spawn(cfg, count, max_steps or None)
    print(f"train-{kind} spawned on {count}x {gpu}: call {call.object_id}\n"
          f"  logs:   modal app logs {APP_NAME}\n"
          f"  cancel: modal app stop {APP_NAME}   (or python -c \"import modal; modal.FunctionCall.from_id('{call.object_id}').cancel()\")\n"
          "  a cancelled or preempted run resumes from its latest checkpoint in R2 when launched again", flush=True)
    if not wait:
        return
    code = call.get()
    if code:
        raise SystemExit(f"train-{kind} failed with exit code {code} (not retried: fix the config or data; the log says what)")


SERVE_PORT = 8080
SERVE_CONFIG = f"{REPO}/configs/inference/modal.yaml"
# A pinned pipeline version for the endpoint (`DOC_ANON_MODEL=r2://doc-anon/models/diffute/v3 modal
# deploy modal/app.py`); unset: the config's `anonymizer.model` (the version `latest` points at).
SERVE_MODEL = os.environ.get("DOC_ANON_MODEL", "")
# Pulling the pipeline (~5 GB) from R2 and loading it; `serve` exiting ends the wait at once.
SERVE_STARTUP_S = 900
SERVE_MAX_CONTAINERS = 4


def serve_command(config: str = SERVE_CONFIG) -> list[str]:
    return ["node", f"{REPO}/lib/cli/main.js", "serve", "--host", "0.0.0.0", "--port", str(SERVE_PORT), "--config", config]


SERVE_COMMAND = serve_command()


def _end_container(code: int) -> None:
    """`serve` exited after it started: end this container (Modal's SIGTERM path), so Modal starts
    a fresh one instead of routing requests to a dead port."""
    print(f"doc-anon serve exited with code {code}: ending this container", file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGTERM)


@app.function(gpu=SERVE_GPU, secrets=[r2, serve_secret], env={"DOC_ANON_MODEL": SERVE_MODEL} if SERVE_MODEL else None,
              timeout=600, startup_timeout=SERVE_STARTUP_S, min_containers=0, max_containers=SERVE_MAX_CONTAINERS,
              scaledown_window=300)
@modal.concurrent(max_inputs=8)
@modal.web_server(port=SERVE_PORT, startup_timeout=SERVE_STARTUP_S)
def anonymize() -> None:
    """The HTTP API of `doc-anon serve` (same request schema and limits); the DiffUTE pipeline loads
    once per container from the r2:// artifact of configs/inference/modal.yaml (or DOC_ANON_MODEL).
    Requests need `Authorization: Bearer $DOC_ANON_TOKEN`. Returns once `serve` listens; raises at
    once when it exits first (a missing model, a bad config)."""
    # The URL is public: never start the server without its token (serve would run without auth).
    missing = [k for k in SERVE_KEYS if not os.environ.get(k)]
    if missing:
        raise RuntimeError(f"the {SERVE_SECRET} secret must set {', '.join(missing)}")
    model = os.environ.get("DOC_ANON_MODEL") or None
    config = entry.serve_config(SERVE_CONFIG, model, tempfile.mkdtemp(prefix="doc-anon-serve-"))
    help_text = entry.SERVE_MODEL_HELP.format(config="configs/inference/modal.yaml", model=model or entry.configured_model(SERVE_CONFIG))
    entry.start_server(serve_command(config), SERVE_PORT, REPO, SERVE_STARTUP_S - 30, on_exit=_end_container, model_help=help_text)


# The batch worker: the endpoint's GPU and engine, one chunk of documents per input.
BATCH_CHUNK = 16
BATCH_MAX_CONTAINERS = 8


def batch_args(model: str) -> list[str]:
    """`doc-anon anonymize` options of a batch: the DiffUTE engine of the endpoint's config."""
    return ["--engine", "diffute", "--model", model, "--device", "cuda", "--sampler", "dpmpp2m", "--steps", "20"]


@app.function(secrets=[r2], timeout=600)
def plan_batch(input_uri: str, output_uri: str) -> list[str]:
    """The input documents that have no report under the output prefix yet."""
    return entry.pending_documents(entry.s3_client(), input_uri, output_uri)


@app.function(gpu=SERVE_GPU, secrets=[r2, serve_secret], timeout=3600, max_containers=BATCH_MAX_CONTAINERS,
              retries=modal.Retries(max_retries=2, backoff_coefficient=2.0, initial_delay=10.0))
def anonymize_chunk(keys: list[str], input_uri: str, output_uri: str, model: str = "") -> list[dict]:
    """Anonymizes one chunk of documents: results and reports to the output prefix."""
    return entry.anonymize_documents(keys, input_uri, output_uri, batch_args(model or entry.configured_model(SERVE_CONFIG)))


@app.local_entrypoint()
def batch(input: str, output: str, model: str = "", chunk: int = BATCH_CHUNK) -> None:
    """`modal run --detach modal/app.py::batch --input r2://bucket/in --output r2://bucket/out`: every
    document under the input prefix anonymized, its result and report (audit record) at the same
    relative path under the output prefix. Resumable: a document with a report is skipped."""
    keys = plan_batch.remote(input, output)
    parts = entry.chunks(keys, chunk)
    print(f"{len(keys)} documents to anonymize in {len(parts)} chunks", flush=True)
    done = failed = 0
    for results in anonymize_chunk.map(parts, kwargs={"input_uri": input, "output_uri": output, "model": model}):
        done += sum(r["status"] == "done" for r in results)
        failed += sum(r["status"] == "failed" for r in results)
        print(f"{done} done, {failed} refused (see their .failed.json) of {len(keys)}", flush=True)
