"""Calls modal/app.py's functions (stub `modal`) as a container and as `modal run` would, with the
container entry's process runners replaced by recorders. Prints, as JSON: each command a function
ran, the `.remote()` / `.spawn()` / `.map()` calls the entrypoints made, and the errors of bad calls."""
import importlib.util
import io
import json
import os
import sys
import contextlib

spec = importlib.util.spec_from_file_location("doc_anon_modal_app", sys.argv[1])
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
import modal  # the stub, first on sys.path

ran = []


def run_group(cmd, cwd, env=None, grace=None):
    ran.append({"cmd": cmd, "cwd": cwd, "omp": (env or {}).get("OMP_NUM_THREADS"), "grace": grace})
    return 0


def start_server(cmd, port, cwd, startup_timeout, env=None, on_exit=None, model_help=""):
    cfg = cmd[cmd.index("--config") + 1]
    ran.append({"cmd": cmd, "cwd": cwd, "port": port, "on_exit": on_exit is not None, "help": model_help,
                "config": json.load(open(cfg)) if cfg.endswith(".json") else cfg})


app.entry.run_group = run_group
app.entry.start_server = start_server


def error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the test reads the type and message
        return {"type": type(e).__name__, "message": str(e)}
    return None


def printed(fn):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        fn()
    return buf.getvalue()


out = {}
# Inside a container: the functions' own bodies, through the handles Modal gives.
app.train_vae.local()
app.train_unet.get_raw_f()("configs/training/unet.local.yaml", 2, 10)
out["container"] = ran[:]

# `modal run modal/app.py::train ...`: the entrypoint is a plain call on the laptop.
out["train_printed"] = printed(lambda: app.train(kind="vae", gpu="A100-80GB", count=4))
printed(lambda: app.train(kind="unet", config="configs/training/unet.modal.yaml", max_steps=50, wait=False))
out["remote_calls"] = list(modal.RECORDED["remote_calls"])
out["gets"] = list(modal.RECORDED.get("gets", []))
out["errors"] = {
    "kind": error(lambda: app.train(kind="gan")),
    "gpu_with_count": error(lambda: app.train(kind="vae", gpu="H100:8")),
    "count": error(lambda: app.train(kind="vae", count=0)),
    "local_weights": error(lambda: app.train(kind="unet", config="configs/training/unet.yaml")),
    "unknown_gpu": error(lambda: app.train(kind="vae", gpu="H1000")),
}
out["remote_calls_after_errors"] = len(modal.RECORDED["remote_calls"])
# A run the container reports as bad input (exit 2, returned so Modal does not retry it) fails the
# entrypoint with that code.
modal.RECORDED["remote_result"] = 2
try:
    printed(lambda: app.train(kind="vae", count=1))
    out["final_exit"] = None
except SystemExit as e:
    out["final_exit"] = str(e)
modal.RECORDED["remote_result"] = None

# The endpoint: refuses to start without its secret's keys, else runs `doc-anon serve`.
del ran[:]
for k in app.SERVE_KEYS:
    os.environ.pop(k, None)
out["errors"]["serve_without_token"] = error(lambda: app.anonymize.local())
os.environ["DOC_ANON_SECRET"] = "s" * 32
out["errors"]["serve_without_token_with_secret"] = error(lambda: app.anonymize.local())
os.environ["DOC_ANON_TOKEN"] = "t" * 32
app.SERVE_CONFIG = os.path.join(str(app.ROOT), "configs", "inference", "modal.yaml")
app.anonymize.local()
os.environ["DOC_ANON_MODEL"] = "r2://doc-anon/models/diffute/v3"
app.anonymize.local()
del os.environ["DOC_ANON_MODEL"]
out["serve"] = ran[:]

# The batch entrypoint: plans remotely, maps chunks with the prefixes as keyword arguments.
modal.RECORDED["remote_result"] = [f"in/p{i}.png" for i in range(5)]
modal.RECORDED["map_result"] = lambda keys, **kw: [{"key": k, "status": "failed" if k.endswith("3.png") else "done"} for k in keys]
out["batch_printed"] = printed(lambda: app.batch(input="r2://b/in", output="r2://b/out", chunk=2))
out["map_calls"] = modal.RECORDED["map_calls"]
out["batch_remote"] = modal.RECORDED["remote_calls"][-1]
print(json.dumps(out))
