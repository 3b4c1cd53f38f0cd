"""Records the parameters of the Modal client API modal/app.py uses, from that client's source, as
test data for the stub `modal` (test/modal/stub). Run against a checkout of
github.com/modal-labs/modal-client at the tag the app targets:

    python test/modal/record_signatures.py <modal-client>/py/modal 1.5.4 > test/modal/modal-signatures.json

Only names, kinds and defaults are kept (no code)."""
import ast
import json
import sys

# Public name -> (file, qualified name in that file).
WANTED = {
    "App": ("app.py", "_App.__init__"),
    "App.function": ("app.py", "_App.function"),
    "App.local_entrypoint": ("app.py", "_App.local_entrypoint"),
    "Image.from_registry": ("_image.py", "_Image.from_registry"),
    "Image.apt_install": ("_image.py", "_Image.apt_install"),
    "Image.pip_install": ("_image.py", "_Image.pip_install"),
    "Image.run_commands": ("_image.py", "_Image.run_commands"),
    "Image.add_local_dir": ("_image.py", "_Image.add_local_dir"),
    "Image.add_local_file": ("_image.py", "_Image.add_local_file"),
    "Image.env": ("_image.py", "_Image.env"),
    "Secret.from_name": ("secret.py", "_Secret.from_name"),
    "Retries": ("retries.py", "Retries.__init__"),
    "web_server": ("_partial_function.py", "_web_server"),
    "concurrent": ("_partial_function.py", "_concurrent"),
    "Function.with_options": ("_functions.py", "_Function.with_options"),
    "Function.remote": ("_functions.py", "_Function.remote"),
    "Function.spawn": ("_functions.py", "_Function.spawn"),
    "Function.local": ("_functions.py", "_Function.local"),
    "Function.get_raw_f": ("_functions.py", "_Function.get_raw_f"),
    "Function.map": ("parallel_map.py", "_map_sync"),
    "FunctionCall.get": ("_functions.py", "_FunctionCall.get"),
    "FunctionCall.cancel": ("_functions.py", "_FunctionCall.cancel"),
}


def find(tree, qual):
    node = tree
    for part in qual.split("."):
        node = next(n for n in node.body if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == part)
    return node


def params(fn):
    a = fn.args
    out = []
    pos = a.posonlyargs + a.args
    pos_defaults = [None] * (len(pos) - len(a.defaults)) + list(a.defaults)
    for p, d in zip(pos, pos_defaults):
        if p.arg in ("self", "cls"):
            continue
        out.append({"name": p.arg, "kind": "positional_or_keyword", "required": d is None, "default": ast.unparse(d) if d is not None else None})
    if a.vararg:
        out.append({"name": a.vararg.arg, "kind": "var_positional"})
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        out.append({"name": p.arg, "kind": "keyword_only", "required": d is None, "default": ast.unparse(d) if d is not None else None})
    if a.kwarg:
        out.append({"name": a.kwarg.arg, "kind": "var_keyword"})
    return out


root, version = sys.argv[1], sys.argv[2]
trees = {}
sigs = {}
for public, (file, qual) in WANTED.items():
    tree = trees.setdefault(file, ast.parse(open(f"{root}/{file}").read()))
    sigs[public] = {"source": f"py/modal/{file}: {qual}", "params": params(find(tree, qual))}
print(json.dumps({"modal_client": version, "source": f"github.com/modal-labs/modal-client tag py/v{version}", "signatures": sigs}, indent=1))
