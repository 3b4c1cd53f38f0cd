"""Drives modal/app.py's _run (stub `modal`) through an interrupt, as Modal's preemption sends one,
with a stand-in launcher that stops on SIGTERM after writing a marker; then through a failing
command, a bad-input one (exit 2) and a successful one. Prints, as its last line, JSON: whether the
interrupt went on, the marker, the failure's exit code, what the last two returned."""
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading

spec = importlib.util.spec_from_file_location("doc_anon_modal_app", sys.argv[1])
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)

tmp = tempfile.mkdtemp()
marker = os.path.join(tmp, "stopped")
ready = os.path.join(tmp, "ready")
# Stops only on SIGTERM, after "checkpointing" (the marker), with the trainer's exit code 130.
launcher = ["bash", "-c", f'trap "echo checkpointed > {marker}; exit 130" TERM; touch {ready}; while true; do sleep 0.05; done']


def interrupt_when_ready() -> None:
    while not os.path.exists(ready):
        threading.Event().wait(0.02)
    os.kill(os.getpid(), signal.SIGINT)


threading.Thread(target=interrupt_when_ready, daemon=True).start()
out = {"interrupt_raised": False}
try:
    app._run(launcher, cwd=tmp)
except KeyboardInterrupt:
    out["interrupt_raised"] = True
out["marker"] = open(marker).read().strip() if os.path.exists(marker) else None
try:
    app._run(["bash", "-c", "exit 3"], cwd=tmp)
    out["failure"] = None
except subprocess.CalledProcessError as e:
    out["failure"] = e.returncode
# Bad input (exit 2) is returned, not raised: Modal would retry it for nothing.
out["final"] = app._run(["bash", "-c", "exit 2"], cwd=tmp)
out["ok"] = app._run(["bash", "-c", "exit 0"], cwd=tmp)
print(json.dumps(out))
