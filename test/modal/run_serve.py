"""Drives modal/container_entry.py's start_server (what modal/app.py's `anonymize` runs): with the
real `doc-anon serve` and a pinned model that does not exist (it must fail at once, with the
server's own error and the model help, not after the start-up timeout), then with a stand-in server
that listens and later exits (the watcher must report it). argv: repo root. Prints JSON."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

root = sys.argv[1]
sys.path.insert(0, os.path.join(root, "modal"))
import container_entry as entry  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


out = {}
tmp = tempfile.mkdtemp()
port = free_port()
config = entry.serve_config(os.path.join(root, "configs", "inference", "modal.yaml"), os.path.join(tmp, "no-such-pipeline"), tmp)
doc = json.load(open(config))
doc["port"], doc["host"] = port, "127.0.0.1"
doc["anonymizer"]["device"] = "cpu"
json.dump(doc, open(config, "w"))
cmd = ["node", os.path.join(root, "lib", "cli", "main.js"), "serve", "--config", config]
env = {**os.environ, "DOC_ANON_TOKEN": "t" * 32, "DOC_ANON_SECRET": "s" * 32}
t0 = time.monotonic()
try:
    entry.start_server(cmd, port, root, startup_timeout=600, env=env, model_help="MODEL-HELP")
    out["missing_model"] = None
except RuntimeError as e:
    out["missing_model"] = str(e)
out["missing_model_s"] = time.monotonic() - t0

# A server that listens, then exits 3 when told to: the watcher gets its code.
port = free_port()
stop = os.path.join(tmp, "stop")
server = ("import socket, os, time, sys\n"
          f"s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', {port})); s.listen()\n"
          f"while not os.path.exists({stop!r}): time.sleep(0.05)\n"
          "sys.exit(3)\n")
exited = []
done = threading.Event()
proc = entry.start_server([sys.executable, "-c", server], port, root, startup_timeout=30,
                          on_exit=lambda code: (exited.append(code), done.set()))
out["listening_returned"] = proc.poll() is None
open(stop, "w").close()
done.wait(10)
out["exit_seen"] = exited
print(json.dumps(out))
