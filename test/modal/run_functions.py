"""Calls modal/app.py's functions (stub `modal`) as a container and as `modal run` would, with `_run`
and the server's Popen replaced by recorders. Prints, as JSON: each command a function ran, the
`.remote()` calls the `train` entrypoint made, and the errors of bad calls."""
import importlib.util
import json
import os
import sys

spec = importlib.util.spec_from_file_location("doc_anon_modal_app", sys.argv[1])
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
import modal  # the stub, first on sys.path

ran = []
app._run = lambda cmd, cwd=app.REPO: ran.append({"cmd": cmd, "cwd": cwd})


class _Popen:
    def __init__(self, cmd, cwd=None, **kw):
        ran.append({"cmd": cmd, "cwd": cwd})


class _Subprocess:
    Popen = _Popen


def error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the test reads the type and message
        return {"type": type(e).__name__, "message": str(e)}
    return None


out = {}
# Inside a container: the functions' own bodies, through the handles Modal gives.
app.train_vae.local()
app.train_unet.get_raw_f()("configs/training/unet.local.yaml", 2, 10)
out["container"] = ran[:]

# `modal run modal/app.py::train ...`: the entrypoint is a plain call on the laptop.
app.train(kind="vae", gpu="A100-80GB", count=4)
app.train(kind="unet", config="configs/training/unet.local.yaml", max_steps=50)
out["remote_calls"] = list(modal.RECORDED["remote_calls"])
out["errors"] = {
    "kind": error(lambda: app.train(kind="gan")),
    "gpu_with_count": error(lambda: app.train(kind="vae", gpu="H100:8")),
    "count": error(lambda: app.train(kind="vae", count=0)),
}
out["remote_calls_after_errors"] = len(modal.RECORDED["remote_calls"])
# A run the container reports as bad input (exit 2, returned so Modal does not retry it) fails the
# entrypoint with that code.
modal.RECORDED["remote_result"] = 2
try:
    app.train(kind="vae", count=1)
    out["final_exit"] = None
except SystemExit as e:
    out["final_exit"] = str(e)
modal.RECORDED["remote_result"] = None

# The endpoint: refuses to start without its secret's keys, else runs `doc-anon serve`.
app.subprocess = _Subprocess
del ran[:]
for k in app.SERVE_KEYS:
    os.environ.pop(k, None)
out["errors"]["serve_without_token"] = error(lambda: app.anonymize.local())
os.environ["DOC_ANON_SECRET"] = "s" * 32
out["errors"]["serve_without_token_with_secret"] = error(lambda: app.anonymize.local())
os.environ["DOC_ANON_TOKEN"] = "t" * 32
app.anonymize.local()
out["serve"] = ran[:]
print(json.dumps(out))
