"""A stand-in for the `modal` package: records what modal/app.py declares, talks to no server.
Decorated functions stay callable the way Modal's are (`.local()`, `.get_raw_f()`); `.remote()`
only records the call, with the options `.with_options()` put on it."""
RECORDED = {"functions": {}, "images": [], "secrets": [], "entrypoints": [], "remote_calls": []}


class _Image:
    def __init__(self, steps):
        self.steps = steps

    @staticmethod
    def from_registry(ref, **kw):
        img = _Image([("from_registry", ref, kw)])
        RECORDED["images"].append(img)
        return img

    def _add(self, *step):
        self.steps.append(step)
        return self

    def apt_install(self, *p, **kw):
        return self._add("apt_install", list(p))

    def pip_install(self, *p, **kw):
        return self._add("pip_install", list(p), kw)

    def add_local_dir(self, src, dst, **kw):
        return self._add("add_local_dir", src, dst, kw)

    def add_local_file(self, src, dst, **kw):
        return self._add("add_local_file", src, dst, kw)

    def run_commands(self, *c, **kw):
        return self._add("run_commands", list(c))

    def env(self, e):
        return self._add("env", e)


Image = _Image


class Secret:
    @staticmethod
    def from_name(name, **kw):
        RECORDED["secrets"].append({"name": name, **kw})
        return {"secret": name, **kw}


class Retries:
    def __init__(self, **kw):
        self.kw = kw


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

    def remote(self, *args, **kw):
        RECORDED["remote_calls"].append(
            {"function": self.fn.__name__, "options": dict(self.overrides), "args": list(args), "kwargs": kw})
        # What the function returned in its container (tests set it; Modal returns the real value).
        return RECORDED.get("remote_result")

    def with_options(self, **kw):
        f = _Function(self.fn, {**self.opts, **kw}, {**self.overrides, **kw})
        f.web, f.concurrent = self.web, self.concurrent
        return f


class App:
    def __init__(self, name, image=None):
        self.name, self.image = name, image

    def function(self, **opts):
        def deco(fn):
            f = fn if isinstance(fn, _Function) else _Function(fn, {})
            f.opts = {**opts, **f.opts}
            RECORDED["functions"][f.fn.__name__] = f
            return f
        return deco

    def local_entrypoint(self, **kw):
        def deco(fn):
            RECORDED["entrypoints"].append(fn.__name__)
            return fn
        return deco


def web_server(port, **kw):
    def deco(fn):
        f = fn if isinstance(fn, _Function) else _Function(fn, {})
        f.web = {"port": port, **kw}
        return f
    return deco


def concurrent(**kw):
    def deco(fn):
        f = fn if isinstance(fn, _Function) else _Function(fn, {})
        f.concurrent = kw
        return f
    return deco
