"""Imports modal/app.py against the stub `modal` and prints what it declares, as JSON."""
import fnmatch
import importlib.util
import json
import os
import subprocess
import sys

spec = importlib.util.spec_from_file_location("doc_anon_modal_app", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
import modal  # the stub, first on sys.path

root = str(mod.ROOT)


def rel(x):
    """Local paths relative to the repo root, so the test reads like the repo."""
    if isinstance(x, str) and os.path.isabs(x) and (x == root or x.startswith(root + os.sep)):
        return os.path.relpath(x, root)
    return x


def ignored(path, patterns):
    """A subset of dockerignore matching, enough for IGNORE: `**/glob` hits any component (or the
    file name), other patterns a leading run of components; a hit on a folder hides its files."""
    parts = path.split("/")
    for p in patterns:
        if p.startswith("**/"):
            if any(fnmatch.fnmatchcase(c, p[3:]) for c in parts):
                return True
        else:
            n = len(p.split("/"))
            if any(fnmatch.fnmatchcase("/".join(parts[:i]), p) for i in range(1, min(n, len(parts)) + 1)):
                return True
    return False


out = {"functions": {}, "images": [], "secrets": modal.RECORDED["secrets"], "entrypoints": modal.RECORDED["entrypoints"]}
for name, f in modal.RECORDED["functions"].items():
    o = dict(f.opts)
    o["secrets"] = [s["secret"] for s in o.get("secrets", [])]
    if "retries" in o:
        o["retries"] = o["retries"].kw
    o.pop("image", None)
    out["functions"][name] = {"opts": o, "web": f.web, "concurrent": f.concurrent}
for img in modal.RECORDED["images"]:
    out["images"].append([[rel(x) if not isinstance(x, (list, dict)) else x for x in step] for step in img.steps])

# Tracked files each added folder would drop (must be none), and what the checkout's junk would be.
tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout.split()
dropped = {}
for step in modal.RECORDED["images"][0].steps:
    if step[0] == "add_local_dir":
        folder = rel(step[1])
        inside = [t[len(folder) + 1:] for t in tracked if t.startswith(folder + "/")]
        dropped[folder] = [t for t in inside if ignored(t, step[3].get("ignore", []))]
out["tracked_dropped"] = dropped
out["ignore"] = mod.IGNORE
out["ignore_at_root"] = {p: ignored(p, mod.IGNORE) for p in [
    "runs/unet/checkpoints/step-00000100/trainer.json", "data/documents/manifest.json", "weights/vgg16_features.safetensors",
    ".device-node/bin/node", ".device-fixtures/x", ".ref/x", ".cache/x", "build/Release/docanon.node", "lib/cli/main.js",
    "node_modules/x/index.js", "train.log", "src/training/data/pages.ts", "scripts/build-native.sh", "configs/training/unet.yaml",
]}
out["native_check_py"] = mod.NATIVE_CHECK_PY
out["train_command"] = {
    "unet": mod.train_command("unet", "configs/training/unet.yaml", 8),
    "vae": mod.train_command("vae", "configs/training/vae.yaml", 2, max_steps=100),
    "out": mod.train_command("vae", "c.yaml", 1, out="/tmp/x"),
}
out["serve_command"] = mod.SERVE_COMMAND
out["torch"] = {"version": mod.TORCH_VERSION, "cuda": mod.TORCH_CUDA, "spec": mod.TORCH_SPEC, "index": mod.TORCH_INDEX,
                "base_image": mod.CUDA_BASE_IMAGE, "gcc": mod.GCC, "jobs": mod.NATIVE_BUILD_JOBS}
out["modal_version"] = modal.__version__
out["local_sources"] = {name: mod.local_sources(open(os.path.join(root, "configs", "training", name)).read())
                        for name in sorted(os.listdir(os.path.join(root, "configs", "training")))}
print(json.dumps(out))
