"""Drives modal/container_entry.py's train() (as modal/app.py's functions call it) through an
interrupt, as Modal's preemption sends one, with a stand-in launcher that starts a stand-in rank:
both stop on SIGTERM after writing a marker (the group is signalled, not only the launcher). Then a
rank that ignores SIGTERM (killed after the grace), a failing command, a bad-input one (exit 2) and
a successful one. Prints, as its last line, JSON."""
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

spec = importlib.util.spec_from_file_location("doc_anon_modal_app", sys.argv[1])
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
entry = app.entry

tmp = tempfile.mkdtemp()
ready = os.path.join(tmp, "ready")
pids = os.path.join(tmp, "pids")


def stand_in(script):
    entry.train_command = lambda *a, **kw: ["bash", "-c", script]


def interrupt_when_ready():
    while not os.path.exists(ready):
        time.sleep(0.02)
    os.remove(ready)
    os.kill(os.getpid(), signal.SIGINT)


def alive(pid):
    """Running (a zombie left to an init that does not reap is not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def interrupted(script, grace):
    stand_in(script)
    threading.Thread(target=interrupt_when_ready, daemon=True).start()
    t0 = time.monotonic()
    raised = False
    try:
        entry.train("vae", "c.yaml", 1, repo=tmp, grace=grace)
    except KeyboardInterrupt:
        raised = True
    return raised, time.monotonic() - t0


out = {}
# The launcher and its rank each write a marker on SIGTERM; the launcher waits for the rank (as
# src/training/launch.ts does) and exits 130.
rank = f'trap "echo rank > {tmp}/rank; exit 130" TERM; while true; do sleep 0.05; done'
launcher = (f'trap "echo launcher > {tmp}/launcher; wait; exit 130" TERM; bash -c {json.dumps(rank)} & '
            f'echo $! > {pids}; sleep 0.3; touch {ready}; wait; wait')
out["interrupt_raised"], _ = interrupted(launcher, grace=20)
out["markers"] = sorted(open(os.path.join(tmp, f)).read().strip() for f in ("launcher", "rank") if os.path.exists(os.path.join(tmp, f)))
out["rank_left"] = alive(int(open(pids).read()))

# A rank that ignores SIGTERM: SIGKILLed with its group after the grace; nothing is left.
stubborn = 'trap "" TERM; while true; do sleep 0.05; done'
launcher = f'trap "" TERM; bash -c {json.dumps(stubborn)} & echo $! > {pids}; sleep 0.3; touch {ready}; wait'
out["stubborn_raised"], took = interrupted(launcher, grace=1.5)
out["stubborn_within_grace"] = 1.0 < took < 10
time.sleep(0.2)
out["stubborn_left"] = alive(int(open(pids).read()))

# A launcher that dies on its own leaving a rank behind: the rank is killed with the group.
stand_in(f'bash -c "sleep 30" & echo $! > {pids}; exit 0')
out["ok_after_orphan"] = entry.train("vae", "c.yaml", 1, repo=tmp)
time.sleep(0.2)
out["orphan_left"] = alive(int(open(pids).read()))

stand_in("exit 3")
try:
    entry.train("vae", "c.yaml", 1, repo=tmp)
    out["failure"] = None
except subprocess.CalledProcessError as e:
    out["failure"] = e.returncode
# Bad input (exit 2) is returned, not raised: Modal would retry it for nothing.
stand_in("exit 2")
out["final"] = entry.train("vae", "c.yaml", 1, repo=tmp)
stand_in("exit 0")
out["ok"] = entry.train("vae", "c.yaml", 1, repo=tmp)
print(json.dumps(out))
