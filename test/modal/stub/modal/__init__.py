"""A stand-in for the `modal` package: records what modal/app.py declares, talks to no server, and
holds every call to the parameters of the Modal client the app is written for (recorded from that
version's source in test/modal/modal-signatures.json): an unknown or misspelled keyword, a missing
required one or a positional one where Modal takes keywords only is a TypeError, as with Modal. It
also checks what that client (or Modal's documentation, for server-side limits) refuses: retry
delays and coefficients, timeouts, GPU strings, web-function rules and decorator order.

Decorated functions stay callable the way Modal's are (`.local()`, `.get_raw_f()`); `.remote()`,
`.spawn()` and `.map()` only record the call, with the options `.with_options()` put on it."""
import inspect
import json
import os

_DATA = json.load(open(os.path.join(os.path.dirname(__file__), "..", "..", "modal-signatures.json")))
__version__ = _DATA["modal_client"]
RECORDED = {"functions": {}, "images": [], "secrets": [], "entrypoints": [], "remote_calls": [], "map_calls": []}

# Limits Modal's servers enforce (docs: guide/timeouts, guide/gpu), not the client's source.
MAX_TIMEOUT_S = 24 * 3600
GPU_TYPES = {"T4", "L4", "A10", "A10G", "A100", "A100-40GB", "A100-80GB", "L40S", "H100", "H100!", "H200", "B200", "B200+", "RTX-PRO-6000"}


class InvalidError(Exception):
    pass


class exception:  # noqa: N801 - modal.exception.InvalidError
    InvalidError = InvalidError


def _signature(name):
    kinds = {
        "positional_or_keyword": inspect.Parameter.POSITIONAL_OR_KEYWORD,
        "keyword_only": inspect.Parameter.KEYWORD_ONLY,
        "var_positional": inspect.Parameter.VAR_POSITIONAL,
        "var_keyword": inspect.Parameter.VAR_KEYWORD,
    }
    params = []
    for p in _DATA["signatures"][name]["params"]:
        kind = kinds[p["kind"]]
        variadic = kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        default = inspect.Parameter.empty if variadic or p.get("required", True) else p.get("default")
        params.append(inspect.Parameter(p["name"], kind, default=default))
    return inspect.Signature(params)


def _bind(name, args, kwargs):
    """The call's arguments by name, or a TypeError naming the Modal API and version."""
    try:
        bound = _signature(name).bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"modal {__version__} {name}: {e}") from None
    return bound.arguments


def _parse_gpu(value):
    if value is None:
        return None
    if isinstance(value, list):
        return [_parse_gpu(v) for v in value]
    if not isinstance(value, str):
        raise InvalidError(f"Invalid GPU config: {value!r}. Value must be a string or `None`")
    kind, _, count = value.partition(":")
    if count:
        try:
            n = int(count)
        except ValueError:
            raise InvalidError(f"Invalid GPU count: {count}. Value must be an integer.") from None
        if n < 1:
            raise InvalidError(f"Invalid GPU count: {count}.")
    if kind.upper() not in GPU_TYPES:
        raise InvalidError(f"Unknown GPU type {kind!r} (Modal's GPU types: {', '.join(sorted(GPU_TYPES))})")
    return value


def _check_function_options(opts, web=False):
    if "gpu" in opts:
        _parse_gpu(opts["gpu"])
    if "timeout" in opts and opts["timeout"] is not None:
        t = opts["timeout"]
        if not isinstance(t, int) or not 1 <= t <= MAX_TIMEOUT_S:
            raise InvalidError(f"timeout must be an integer between 1 s and 24 h, got {t!r}")
    if opts.get("startup_timeout") is not None and not 1 <= opts["startup_timeout"] <= MAX_TIMEOUT_S:
        raise InvalidError(f"startup_timeout must be between 1 s and 24 h, got {opts['startup_timeout']!r}")
    if "cpu" in opts and opts["cpu"] is not None and not opts["cpu"] > 0:
        raise InvalidError(f"cpu must be positive, got {opts['cpu']!r}")
    r = opts.get("retries")
    if r is not None and not isinstance(r, (int, Retries)):
        raise InvalidError(f"retries must be an int or modal.Retries, got {r!r}")
    if isinstance(r, int) and not 0 <= r <= 10:
        raise InvalidError(f"Function retries must be between 0 and 10, got {r}")
    if web and r is not None:
        raise InvalidError("Web Functions do not support retries.")


class _Image:
    def __init__(self, steps):
        self.steps = steps

    @staticmethod
    def from_registry(*args, **kw):
        a = _bind("Image.from_registry", args, kw)
        img = _Image([("from_registry", a["tag"], {k: v for k, v in a.items() if k != "tag"})])
        RECORDED["images"].append(img)
        return img

    def _add(self, *step):
        self.steps.append(step)
        return self

    def apt_install(self, *p, **kw):
        _bind("Image.apt_install", p, kw)
        return self._add("apt_install", list(p))

    def pip_install(self, *p, **kw):
        _bind("Image.pip_install", p, kw)
        return self._add("pip_install", list(p), kw)

    def add_local_dir(self, *args, **kw):
        a = _bind("Image.add_local_dir", args, kw)
        return self._add("add_local_dir", a["local_path"], a["remote_path"], {k: v for k, v in kw.items()})

    def add_local_file(self, *args, **kw):
        a = _bind("Image.add_local_file", args, kw)
        return self._add("add_local_file", a["local_path"], a["remote_path"], {k: v for k, v in kw.items()})

    def run_commands(self, *c, **kw):
        _bind("Image.run_commands", c, kw)
        return self._add("run_commands", list(c))

    def env(self, *args, **kw):
        a = _bind("Image.env", args, kw)
        return self._add("env", a["vars"])


Image = _Image


class Secret:
    @staticmethod
    def from_name(*args, **kw):
        a = _bind("Secret.from_name", args, kw)
        RECORDED["secrets"].append({"name": a["name"], **kw})
        return {"secret": a["name"], **kw}


class Retries:
    """Checks what modal/retries.py checks, with its messages' gist."""

    def __init__(self, *args, **kw):
        a = _bind("Retries", args, kw)
        self.kw = kw
        max_retries = a["max_retries"]
        backoff = a.get("backoff_coefficient", 2.0)
        initial = a.get("initial_delay", 1.0)
        max_delay = a.get("max_delay", 60.0)
        if max_retries < 0:
            raise InvalidError(f"Invalid retries number: {max_retries}. Function retries must be non-negative.")
        if not 1.0 <= max_delay <= 60.0:
            raise InvalidError(f"Invalid max_delay argument: {max_delay}. Must be between 1-60 seconds.")
        if not 0.0 <= initial <= 60.0:
            raise InvalidError(f"Invalid initial_delay argument: {initial}. Must be between 0-60 seconds.")
        if not 1.0 <= backoff <= 10.0:
            raise InvalidError(f"Invalid backoff_coefficient: {backoff}. Coefficient must be between 1.0 and 10.0")


class FunctionCall:
    _next = 0

    def __init__(self, function, result):
        FunctionCall._next += 1
        self.object_id = f"fc-stub{FunctionCall._next:04d}"
        self.function, self._result = function, result

    def get(self, *args, **kw):
        _bind("FunctionCall.get", args, kw)
        RECORDED.setdefault("gets", []).append(self.object_id)
        return self._result

    def cancel(self, *args, **kw):
        _bind("FunctionCall.cancel", args, kw)

    @staticmethod
    def from_id(function_call_id, client=None):
        return FunctionCall(None, None)


class _Partial:
    """What @web_server / @concurrent return: a function for @app.function to take."""

    def __init__(self, fn):
        self.fn = fn
        self.web = None
        self.concurrent = None


def _partial(fn, decorator):
    if isinstance(fn, _Function):
        raise InvalidError(f"`@modal.{decorator}` must be applied below `@app.function` (it was applied to a Modal Function)")
    return fn if isinstance(fn, _Partial) else _Partial(fn)


class _Function:
    def __init__(self, fn, opts, overrides=None):
        self.fn, self.opts = fn, opts
        # What with_options() changed for a call, kept apart from the decorator's options.
        self.overrides = overrides or {}
        self.web = None
        self.concurrent = None

    def local(self, *args, **kw):
        return self.fn(*args, **kw)

    def get_raw_f(self):
        return self.fn

    def _record(self, how, args, kw):
        inspect.signature(self.fn).bind(*args, **kw)  # Modal serialises them for this function
        RECORDED["remote_calls"].append(
            {"function": self.fn.__name__, "how": how, "options": dict(self.overrides), "args": list(args), "kwargs": kw})

    def remote(self, *args, **kw):
        self._record("remote", args, kw)
        # What the function returned in its container (tests set it; Modal returns the real value).
        return RECORDED.get("remote_result")

    def spawn(self, *args, **kw):
        self._record("spawn", args, kw)
        return FunctionCall(self, RECORDED.get("remote_result"))

    def map(self, *iterators, **kw):
        a = _bind("Function.map", iterators, kw)
        kwargs = a.get("kwargs", {})
        inputs = list(zip(*iterators))
        RECORDED["map_calls"].append({"function": self.fn.__name__, "inputs": [list(i) for i in inputs], "kwargs": kwargs})
        for i in inputs:
            inspect.signature(self.fn).bind(*i, **kwargs)
        # The container's results: a test-set function of the inputs, else none.
        result = RECORDED.get("map_result")
        return [result(*i, **kwargs) if result else None for i in inputs]

    def with_options(self, **kw):
        _bind("Function.with_options", (), kw)
        _check_function_options(kw)
        f = _Function(self.fn, {**self.opts, **kw}, {**self.overrides, **kw})
        f.web, f.concurrent = self.web, self.concurrent
        return f


class App:
    def __init__(self, *args, **kw):
        a = _bind("App", args, kw)
        self.name, self.image = a.get("name"), a.get("image")

    def function(self, *args, **opts):
        if args:
            raise InvalidError("Did you forget parentheses? Suggestion: `@app.function()`.")
        _bind("App.function", (), opts)

        def deco(fn):
            web = concurrent_ = None
            if isinstance(fn, _Partial):
                fn, web, concurrent_ = fn.fn, fn.web, fn.concurrent
            elif isinstance(fn, _Function):
                raise InvalidError("`@app.function` applied twice")
            _check_function_options(opts, web=web is not None)
            if web is not None and inspect.signature(fn).parameters:
                raise InvalidError("Functions decorated by `@modal.web_server` can't have parameters.")
            f = _Function(fn, dict(opts))
            f.web, f.concurrent = web, concurrent_
            RECORDED["functions"][fn.__name__] = f
            return f
        return deco

    def local_entrypoint(self, *args, **kw):
        if args:
            raise InvalidError("Did you forget parentheses? Suggestion: `@app.local_entrypoint()`.")
        _bind("App.local_entrypoint", (), kw)

        def deco(fn):
            RECORDED["entrypoints"].append(fn.__name__)
            return fn
        return deco


def web_server(*args, **kw):
    a = _bind("web_server", args, kw)
    port, startup = a["port"], a.get("startup_timeout", 5.0)
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidError("First argument of `@web_server` must be a local port, such as `@web_server(8000)`.")
    if startup <= 0:
        raise InvalidError("The `startup_timeout` argument of `@web_server` must be positive.")

    def deco(fn):
        p = _partial(fn, "web_server")
        p.web = {"port": port, **{k: v for k, v in kw.items()}}
        return p
    return deco


def concurrent(*args, **kw):
    if args:
        raise InvalidError("Did you forget parentheses? Suggestion: `@modal.concurrent(max_inputs=...)`.")
    a = _bind("concurrent", (), kw)
    if a.get("max_inputs") is None:
        raise TypeError("`@modal.concurrent()` missing required argument: `max_inputs`.")
    if a.get("target_inputs") is not None and a["target_inputs"] > a["max_inputs"]:
        raise InvalidError("`target_inputs` parameter cannot be greater than `max_inputs`.")

    def deco(fn):
        p = _partial(fn, "concurrent")
        p.concurrent = kw
        return p
    return deco
