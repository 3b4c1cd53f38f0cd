"""Imports modal/app.py against the stub `modal` and prints what it declares, as JSON."""
import importlib.util
import json
import sys

spec = importlib.util.spec_from_file_location("doc_anon_modal_app", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
import modal  # the stub, first on sys.path

out = {"functions": {}, "images": [], "secrets": modal.RECORDED["secrets"], "entrypoints": modal.RECORDED["entrypoints"]}
for name, f in modal.RECORDED["functions"].items():
    o = dict(f.opts)
    o["secrets"] = [s["secret"] for s in o.get("secrets", [])]
    if "retries" in o:
        o["retries"] = o["retries"].kw
    o.pop("image", None)
    out["functions"][name] = {"opts": o, "web": f.web, "concurrent": f.concurrent}
for img in modal.RECORDED["images"]:
    out["images"].append([[str(x) if not isinstance(x, (list, dict, str)) else x for x in step] for step in img.steps])
out["train_command"] = {
    "unet": mod.train_command("unet", "configs/training/unet.yaml", 8),
    "vae": mod.train_command("vae", "configs/training/vae.yaml", 2, max_steps=100),
}
out["serve_command"] = mod.SERVE_COMMAND
print(json.dumps(out))
