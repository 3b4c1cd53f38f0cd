"""What a doc-anon-torch Modal container runs, with no Modal in it: the training launcher in its own
process group, `doc-anon serve` watched until it listens, and the batch worker over an R2 prefix.

modal/app.py calls these functions inside its containers; the same file runs on any machine as a
script, which is how the CPU rehearsal (test/integration/modal-rehearsal.test.ts) drives it:

    python modal/container_entry.py train --kind vae --config tiny.yaml --gpus 2 --device cpu --repo . --out /tmp/run

Standard library only, except boto3 (the batch worker; the image installs it) and PyYAML (a pinned
serve model), both imported when used.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Callable, Iterable

REPO = "/app"
KINDS = ("vae", "unet")
# Training output outside the image: empty in every new container, so `--resume` can only find the
# checkpoints in R2 (a local one would win over R2 and roll the run back).
RUNS_DIR = "/runs"
# doc-anon's exit code for bad input (config, missing sources, a diverged recipe): a retry would
# fail the same way on the same GPUs, so it is returned instead of raised (Modal retries raises).
FINAL_EXIT = 2
# A run stopped by SIGINT/SIGTERM after its checkpoint (128 + SIGINT), as the CLI exits.
STOPPED_BY_SIGNAL = 130
# After Modal's interrupt (preemption, cancellation) the launcher and its ranks get this long to
# finish their step, write a checkpoint and push it to R2, inside the 30 s Modal gives a container
# between the interrupt and its end. Then the whole process group is killed.
STOP_GRACE_S = 25.0


def train_command(kind: str, config: str, gpus: int, max_steps: int | None = None, out: str | None = None,
                  device: str = "cuda", repo: str = REPO) -> list[str]:
    """The exact CLI a training container runs (resumes from R2 when a checkpoint exists)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if gpus < 1:
        raise ValueError("gpus must be >= 1")
    cmd = ["node", f"{repo}/lib/cli/main.js", f"train-{kind}", "--config", config, "--device", device,
           "--nproc", str(gpus), "--resume", "--out", out or f"{RUNS_DIR}/{kind}"]
    if max_steps is not None:
        cmd += ["--max-steps", str(max_steps)]
    return cmd


def rank_env(cpu_per_gpu: float, base: dict[str, str] | None = None) -> dict[str, str]:
    """The launcher's environment, which every rank inherits: OpenMP / MKL threads per rank from the
    cores reserved per GPU (libtorch would otherwise start a thread per host core in each of the 8
    ranks, far more than the container's reservation), NCCL warnings on."""
    env = dict(os.environ if base is None else base)
    threads = str(max(1, int(cpu_per_gpu)))
    env["OMP_NUM_THREADS"] = threads
    env["MKL_NUM_THREADS"] = threads
    env.setdefault("NCCL_DEBUG", "WARN")
    return env


def group_members(pgid: int) -> list[int] | None:
    """Live (not zombie) processes of process group `pgid`, from /proc; None where there is no /proc.
    (A zombie still answers kill(0), and a container's PID 1 may never reap it.)"""
    if not os.path.isdir("/proc/self"):
        return None
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="utf8", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(name))
    return out


def _group_alive(pgid: int) -> bool:
    members = group_members(pgid)
    if members is not None:
        return bool(members)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member we may not signal still exists
        return True
    return True


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def stop_group(proc: subprocess.Popen, grace: float = STOP_GRACE_S, log: Callable[[str], None] = print) -> None:
    """SIGTERM to the launcher and every rank (one process group), then up to `grace` seconds for
    them to checkpoint and exit, then SIGKILL to whatever of the group is left."""
    pgid = proc.pid
    log(f"interrupt: SIGTERM to the launcher and its ranks (process group {pgid}); {grace:.0f} s to checkpoint")
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and (proc.poll() is None or _group_alive(pgid)):
        time.sleep(0.1)
    if proc.poll() is None or _group_alive(pgid):
        log(f"interrupt: the group did not stop within {grace:.0f} s: SIGKILL (the retry resumes from the last checkpoint in R2)")
        _signal_group(pgid, signal.SIGKILL)
    proc.wait()


def run_group(cmd: list[str], cwd: str, env: dict[str, str] | None = None, grace: float = STOP_GRACE_S) -> int:
    """Runs `cmd` as the leader of a new process group (its ranks join it) and returns its exit
    code. An interrupt while it runs (KeyboardInterrupt: Modal's preemption; Modal's
    InputCancellation; any exception) stops the whole group with `stop_group`, then goes on. After
    a normal exit, anything left in the group (a rank of a launcher that was killed) is killed."""
    print("+", shlex.join(cmd), flush=True)
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, start_new_session=True)
    try:
        code = proc.wait()
    except BaseException:
        stop_group(proc, grace, log=lambda m: print(m, flush=True))
        raise
    if _group_alive(proc.pid):
        _signal_group(proc.pid, signal.SIGKILL)
    return code


def train(kind: str, config: str, gpus: int, max_steps: int | None = None, out: str | None = None, device: str = "cuda",
          repo: str = REPO, cpu_per_gpu: float = 4.0, grace: float = STOP_GRACE_S) -> int:
    """One training attempt: 0 done; FINAL_EXIT returned (nothing a retry could change); any other
    non-zero exit raises CalledProcessError (Modal retries it, and the retry resumes from R2)."""
    cmd = train_command(kind, config, gpus, max_steps, out, device=device, repo=repo)
    code = run_group(cmd, cwd=repo, env=rank_env(cpu_per_gpu), grace=grace)
    if code == FINAL_EXIT:
        print(f"doc-anon exited {code} (bad config, missing sources or diverged: see above); not retried", flush=True)
        return code
    if code != 0:
        raise subprocess.CalledProcessError(code, cmd)
    return 0


# --- the endpoint -------------------------------------------------------------------------------

SERVE_MODEL_HELP = (
    "The endpoint serves the DiffUTE pipeline folder named by `anonymizer.model` in {config} ({model}): "
    "publish one there (`doc-anon artifacts push <pipeline-dir> r2://.../models/diffute/<version>` moves `latest`; "
    "`doc-anon models promote` comes with issue 23) or pin a version with DOC_ANON_MODEL=r2://.../<version> at `modal deploy`."
)


def serve_config(config: str, model: str | None, out_dir: str) -> str:
    """The config `serve` runs with: `config` itself, or (with `model`, a pinned pipeline) a copy
    whose anonymizer.model is `model`."""
    if not model:
        return config
    import yaml  # PyYAML, in the image

    with open(config, encoding="utf8") as f:
        doc = yaml.safe_load(f)
    doc.setdefault("anonymizer", {})["model"] = model
    path = os.path.join(out_dir, "serve.json")
    with open(path, "w", encoding="utf8") as f:
        json.dump(doc, f)
    return path


def configured_model(config: str) -> str:
    """anonymizer.model of a serve config, for error messages."""
    try:
        import yaml

        with open(config, encoding="utf8") as f:
            return str((yaml.safe_load(f) or {}).get("anonymizer", {}).get("model", "(none)"))
    except Exception:  # noqa: BLE001 - only for a message
        return "(unreadable)"


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def start_server(cmd: list[str], port: int, cwd: str, startup_timeout: float, env: dict[str, str] | None = None,
                 on_exit: Callable[[int], None] | None = None, model_help: str = "") -> subprocess.Popen:
    """Starts `doc-anon serve` and returns once it accepts connections on `port`. When it exits
    first (a missing model, a bad config) this raises at once with its exit code and last log lines,
    instead of Modal waiting out the start-up timeout. After that a watcher calls `on_exit(code)`
    if the server ever exits (app.py ends the container, so Modal replaces it)."""
    print("+", shlex.join(cmd), flush=True)
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    tail: collections.deque[str] = collections.deque(maxlen=30)

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            tail.append(line.rstrip("\n"))
            sys.stderr.write(line)
            sys.stderr.flush()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    deadline = time.monotonic() + startup_timeout
    while True:
        code = proc.poll()
        if code is not None:
            reader.join(timeout=2)
            raise RuntimeError(
                f"doc-anon serve exited with code {code} before listening on port {port}. {model_help}\n"
                "Its last lines:\n" + "\n".join(tail))
        if _port_open(port):
            break
        if time.monotonic() > deadline:
            _signal_group(proc.pid, signal.SIGKILL)
            raise RuntimeError(f"doc-anon serve did not listen on port {port} within {startup_timeout:.0f} s")
        time.sleep(0.2)
    if on_exit is not None:
        threading.Thread(target=lambda: on_exit(proc.wait()), daemon=True).start()
    return proc


# --- batch over an R2 prefix --------------------------------------------------------------------

DOCUMENT_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".pdf")
REPORT_SUFFIX = ".report.json"
FAILED_SUFFIX = ".failed.json"


def parse_prefix(uri: str) -> tuple[str, str]:
    """r2://bucket/some/prefix -> (bucket, "some/prefix/")."""
    if not uri.startswith("r2://"):
        raise ValueError(f"expected r2://bucket/prefix, got {uri!r}")
    bucket, _, prefix = uri[len("r2://"):].partition("/")
    if not bucket or ".." in prefix.split("/"):
        raise ValueError(f"expected r2://bucket/prefix, got {uri!r}")
    prefix = prefix.strip("/")
    return bucket, (prefix + "/") if prefix else ""


def s3_client():
    """boto3 S3 client for R2 from the R2_* environment (R2_ENDPOINT: another S3 server, path style)."""
    import boto3
    from botocore.config import Config

    endpoint = os.environ.get("R2_ENDPOINT") or f"https://{os.environ['R2_ACCOUNT_ID']}.r2.cloudflarestorage.com"
    cfg = Config(request_checksum_calculation="when_required", response_checksum_validation="when_required",
                 s3={"addressing_style": "path" if os.environ.get("R2_ENDPOINT") else "auto"},
                 retries={"max_attempts": 5, "mode": "standard"})
    return boto3.client("s3", endpoint_url=endpoint, region_name="auto", config=cfg,
                        aws_access_key_id=os.environ["R2_ACCESS_KEY_ID"],
                        aws_secret_access_key=os.environ["R2_SECRET_ACCESS_KEY"])


def _list(s3, bucket: str, prefix: str) -> Iterable[str]:
    token = None
    while True:
        kw = {"Bucket": bucket, "Prefix": prefix}
        if token:
            kw["ContinuationToken"] = token
        page = s3.list_objects_v2(**kw)
        for o in page.get("Contents", []):
            yield o["Key"]
        if not page.get("IsTruncated"):
            return
        token = page.get("NextContinuationToken")


def output_keys(key: str, in_prefix: str, out_prefix: str) -> tuple[str, str, str]:
    """(result, report, failure record) keys of an input document, at the same relative path."""
    rel = key[len(in_prefix):]
    return out_prefix + rel, out_prefix + rel + REPORT_SUFFIX, out_prefix + rel + FAILED_SUFFIX


def pending_documents(s3, input_uri: str, output_uri: str) -> list[str]:
    """Input documents (by extension) without a report under the output prefix. The report is
    uploaded last, so a document with one is finished and skipped on a rerun; one that failed
    (a .failed.json record) is tried again."""
    ib, ip = parse_prefix(input_uri)
    ob, op = parse_prefix(output_uri)
    if (ib, ip) == (ob, op) or (ib == ob and (op.startswith(ip) or ip.startswith(op))):
        raise ValueError("the output prefix must not overlap the input prefix")
    done = {k for k in _list(s3, ob, op) if k.endswith(REPORT_SUFFIX)}
    docs = sorted(k for k in _list(s3, ib, ip) if k.lower().endswith(DOCUMENT_EXTENSIONS))
    return [k for k in docs if output_keys(k, ip, op)[1] not in done]


def anonymize_command(repo: str, src: str, dst: str, report: str, extra: list[str]) -> list[str]:
    return ["node", f"{repo}/lib/cli/main.js", "anonymize", src, "--out", dst, "--report", report, *extra]


def anonymize_documents(keys: list[str], input_uri: str, output_uri: str, extra: list[str], repo: str = REPO,
                        s3=None, command: Callable[[str, str, str, str, list[str]], list[str]] = anonymize_command) -> list[dict]:
    """Anonymizes `keys` (input object keys) one after another: download, `doc-anon anonymize`,
    upload the result, then its report (the marker of a finished document). A document the CLI
    refuses (exit 2: unreadable page, bad input) gets a .failed.json record with the log's end
    instead and the others go on; any other failure raises (Modal retries the chunk)."""
    s3 = s3 or s3_client()
    ib, ip = parse_prefix(input_uri)
    ob, op = parse_prefix(output_uri)
    results = []
    with tempfile.TemporaryDirectory(prefix="doc-anon-batch-") as tmp:
        for i, key in enumerate(keys):
            result_key, report_key, failed_key = output_keys(key, ip, op)
            name = os.path.basename(key)
            src = os.path.join(tmp, f"{i}-in-{name}")
            dst = os.path.join(tmp, f"{i}-out-{name}")
            rep = os.path.join(tmp, f"{i}-report.json")
            s3.download_file(ib, key, src)
            cmd = command(repo, src, dst, rep, extra)
            p = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
            if p.returncode == FINAL_EXIT:
                record = {"input": f"r2://{ib}/{key}", "code": p.returncode, "log": (p.stdout + p.stderr)[-4000:]}
                s3.put_object(Bucket=ob, Key=failed_key, Body=json.dumps(record).encode(), ContentType="application/json")
                results.append({"key": key, "status": "failed", "code": p.returncode})
                continue
            if p.returncode != 0:
                raise RuntimeError(f"doc-anon anonymize failed on r2://{ib}/{key} with exit code {p.returncode}:\n{(p.stdout + p.stderr)[-4000:]}")
            s3.upload_file(dst, ob, result_key)
            s3.upload_file(rep, ob, report_key, ExtraArgs={"ContentType": "application/json"})
            try:
                s3.delete_object(Bucket=ob, Key=failed_key)
            except Exception:  # noqa: BLE001 - an old failure record that was not there
                pass
            results.append({"key": key, "status": "done", "output": f"r2://{ob}/{result_key}"})
    return results


def chunks(items: list[str], size: int) -> list[list[str]]:
    if size < 1:
        raise ValueError("chunk size must be >= 1")
    return [items[i:i + size] for i in range(0, len(items), size)]


# --- as a script (the CPU rehearsal) -------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="verb", required=True)
    t = sub.add_parser("train", help="one training attempt, as a Modal training container runs it")
    t.add_argument("--kind", required=True, choices=KINDS)
    t.add_argument("--config", required=True)
    t.add_argument("--gpus", type=int, default=1, help="ranks (--nproc)")
    t.add_argument("--max-steps", type=int)
    t.add_argument("--out")
    t.add_argument("--device", default="cuda")
    t.add_argument("--repo", default=REPO)
    t.add_argument("--cpu-per-gpu", type=float, default=4.0)
    t.add_argument("--grace", type=float, default=STOP_GRACE_S)
    a = p.parse_args(argv)
    try:
        return train(a.kind, a.config, a.gpus, a.max_steps, a.out, device=a.device, repo=os.path.abspath(a.repo),
                     cpu_per_gpu=a.cpu_per_gpu, grace=a.grace)
    except KeyboardInterrupt:
        print("interrupted: the group was stopped", flush=True)
        return STOPPED_BY_SIGNAL
    except subprocess.CalledProcessError as e:
        return e.returncode or 1


if __name__ == "__main__":
    sys.exit(main())
