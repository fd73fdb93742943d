"""The narrow channel between the trusted grader and a student's kernel: plain data only.

The checks run in the grader's own (trusted) process, never in the student's kernel. Where a check
touches a student's object -- calls ``to_polar(points)``, asks ``len(train_set)``, builds
``make_mlp()`` -- the object it holds is a stand-in (:class:`Remote`) and the operation becomes one
request to the kernel: a JSON file plus one binary file of raw tensor bytes (safetensors-like: a
dtype from a short list, a shape, an offset; never pickle), written into the kernel's folder. The
kernel runs one grader-written line, :func:`serve`, which performs the operation on the student's
object and writes the reply the same way. What comes back is only data:

- numbers, strings, ``None``, lists, tuples, dicts and tensors (and numpy arrays) -- as values;
- a ``torch.nn`` model built only of standard layers (:data:`LAYERS`) -- as its architecture (layer
  types and their constructor arguments) plus its ``state_dict``: the grader builds its own copy
  from ``torch.nn`` and runs that (the student's Python never runs in the grader);
- anything else (a function, a class, a ``Dataset``, an instance of the student's class) -- as a
  handle: a new :class:`Remote`, whose attributes, items, length and calls are further requests.

Arguments go the other way the same way: plain data, tensors, standard models, a ``DataLoader`` over
a ``TensorDataset``, an SGD/Adam optimizer over those models' parameters, handles. What the
student's code does to a model, an optimizer or a tensor it was given (training, ``restore``,
in-place changes) is sent back and applied to the grader's object, and the grader's random-number
state travels with each call (the student's code draws what it would have drawn in the check's own
process; the grader's state is not changed by it), so a check reads as if it ran in one process.

Nothing a reply says is a verdict: the grader decides by computing on the data. A submission that
changes the channel's code in its own kernel can only change the data it sends, i.e. give other
answers; to earn points those must be right answers to inputs it has not seen. The grader checks
every reply (its size, its dtypes and shapes, a model's layers against :data:`LAYERS`, a
``state_dict`` against the architecture before any memory is allocated for it).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import os
import secrets
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

#: Tensor element types that cross the channel, by name.
DTYPES = {name: getattr(torch, name) for name in (
    "float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8",
    "bool")}
#: Largest reply the grader reads (JSON and tensor bytes together).
MAX_REPLY_BYTES = 64 * 2**20
MAX_DEPTH = 40

#: torch.nn classes a model may be built of to cross the channel, each with its constructor
#: arguments (read back from the module's attributes of the same names).
LAYERS: dict[str, tuple[str, ...]] = {
    "Sequential": (), "ModuleList": (), "Identity": (),
    "Linear": ("in_features", "out_features", "bias"),
    "Conv1d": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
               "groups", "bias", "padding_mode"),
    "Conv2d": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
               "groups", "bias", "padding_mode"),
    "BatchNorm1d": ("num_features", "eps", "momentum", "affine", "track_running_stats"),
    "BatchNorm2d": ("num_features", "eps", "momentum", "affine", "track_running_stats"),
    "LayerNorm": ("normalized_shape", "eps", "elementwise_affine"),
    "ReLU": (), "Tanh": (), "Sigmoid": (), "GELU": ("approximate",), "ELU": ("alpha",),
    "LeakyReLU": ("negative_slope",), "Softmax": ("dim",), "LogSoftmax": ("dim",),
    "MaxPool2d": ("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    "AvgPool2d": ("kernel_size", "stride", "padding", "ceil_mode"),
    "AdaptiveAvgPool2d": ("output_size",), "AdaptiveMaxPool2d": ("output_size",),
    "AvgPool1d": ("kernel_size", "stride", "padding", "ceil_mode"),
    "MaxPool1d": ("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    "Flatten": ("start_dim", "end_dim"),
    "Unflatten": ("dim", "unflattened_size"), "Dropout": ("p",), "Dropout2d": ("p",),
    "BCEWithLogitsLoss": ("reduction",), "BCELoss": ("reduction",), "MSELoss": ("reduction",),
    "CrossEntropyLoss": ("reduction", "label_smoothing"), "NLLLoss": ("reduction",),
    "L1Loss": ("reduction",),
}
OPTIMIZERS = ("SGD", "Adam", "AdamW")
#: Exceptions from the student's code that the grader raises again by name (any other: RemoteError)
EXCEPTIONS = {e.__name__: e for e in (
    NotImplementedError, TypeError, ValueError, IndexError, KeyError, AttributeError, NameError,
    RuntimeError, ZeroDivisionError, AssertionError, FileNotFoundError, OSError, StopIteration,
    ArithmeticError, OverflowError, LookupError, ImportError, ModuleNotFoundError, RecursionError,
    MemoryError, UnboundLocalError)}


class ChannelError(Exception):
    """A reply the grader does not accept (too large, malformed, a model it cannot rebuild)."""


class RemoteError(Exception):
    """The student's code raised an exception the grader does not raise again by its own type."""


# --- the data format, both ends ---------------------------------------------------------------


class Encoder:
    """Plain data -> JSON-able structure + raw tensor bytes.

    ``other(value)`` encodes what is not plain data (or raises TypeError).
    """

    def __init__(self, other=None):
        self.chunks: list[bytes] = []
        self.size = 0
        self.other = other

    def tensor(self, value: torch.Tensor) -> dict:
        value = value.detach().cpu().contiguous()
        name = str(value.dtype).removeprefix("torch.")
        if name not in DTYPES:
            value, name = value.float(), "float32"
        raw = value.reshape(-1).view(torch.uint8).numpy().tobytes() if value.numel() else b""
        spec = {"dtype": name, "shape": list(value.shape), "offset": self.size, "nbytes": len(raw)}
        self.chunks.append(raw)
        self.size += len(raw)
        return spec

    def encode(self, value, depth: int = 0):
        if depth > MAX_DEPTH:
            raise ValueError("the value is nested too deeply to send")
        if value is None or isinstance(value, (bool, str)):
            return value if not isinstance(value, bool) or type(value) is bool else bool(value)
        if isinstance(value, int) and type(value) in (int,):
            return value
        if type(value) is float:
            return value if math.isfinite(value) else {"$float": repr(value)}
        if isinstance(value, torch.Tensor):
            spec = self.tensor(value)
            if isinstance(value, nn.Parameter) or value.requires_grad:
                spec["requires_grad"] = True
            return {"$tensor": spec}
        try:
            import numpy as np
        except ImportError:  # pragma: no cover
            np = None
        if np is not None and isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            return {"$ndarray": self.tensor(torch.from_numpy(value.copy()))}
        if np is not None and isinstance(value, np.generic) and value.dtype.kind in "biuf":
            return self.encode(value.item(), depth + 1)
        if type(value) in (list, tuple):
            return {"$list" if type(value) is list else "$tuple":
                    [self.encode(v, depth + 1) for v in value]}
        if type(value) is dict and all(type(k) in (str, int) for k in value):
            return {"$dict": [[k, self.encode(v, depth + 1)] for k, v in value.items()]}
        if self.other is not None:
            return self.other(value)
        raise TypeError(f"cannot send a {type(value).__name__} over the grading channel")

    def write(self, path: Path, payload: dict) -> None:
        path.with_suffix(".bin").write_bytes(b"".join(self.chunks))
        # the JSON last: its existence says the reply is complete
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload))
        os.replace(tmp, path)


class Decoder:
    """JSON structure + raw bytes -> values, checking every tensor spec.

    ``other(tag, value)`` decodes the tags that are not plain data.
    """

    def __init__(self, blob: bytes, other=None):
        self.blob, self.other = blob, other

    def tensor(self, spec) -> torch.Tensor:
        if not isinstance(spec, dict) or spec.get("dtype") not in DTYPES:
            raise ChannelError(f"a tensor of an unknown type: {str(spec)[:80]}")
        dtype = DTYPES[spec["dtype"]]
        shape, offset, nbytes = spec.get("shape"), spec.get("offset"), spec.get("nbytes")
        if (not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape)
                or type(offset) is not int or type(nbytes) is not int or offset < 0
                or offset + nbytes > len(self.blob)
                or math.prod(shape) * torch.empty((), dtype=dtype).element_size() != nbytes):
            raise ChannelError(f"a malformed tensor: {str(spec)[:120]}")
        if nbytes == 0:
            value = torch.empty(shape, dtype=dtype)
        else:
            raw = torch.frombuffer(bytearray(self.blob[offset:offset + nbytes]), dtype=torch.uint8)
            value = raw.view(dtype).reshape(shape)
        return value.requires_grad_() if spec.get("requires_grad") and value.is_floating_point() \
            else value

    def decode(self, value, depth: int = 0):
        if depth > MAX_DEPTH:
            raise ChannelError("a reply nested too deeply")
        if value is None or type(value) in (bool, int, float, str):
            return value
        if type(value) is dict and len(value) >= 1:
            tag = next(iter(value))
            body = value[tag]
            if tag == "$float" and body in ("nan", "inf", "-inf"):
                return float(body)
            if tag == "$tensor":
                return self.tensor(body)
            if tag == "$ndarray":
                return self.tensor(body).numpy()
            if tag in ("$list", "$tuple") and type(body) is list:
                items = [self.decode(v, depth + 1) for v in body]
                return items if tag == "$list" else tuple(items)
            if tag == "$dict" and type(body) is list:
                return {k: self.decode(v, depth + 1) for k, v in body
                        if type(k) in (str, int)}
            if self.other is not None and tag.startswith("$"):
                return self.other(tag, value, depth)
        raise ChannelError(f"an unexpected value in a reply: {str(value)[:120]}")


# --- models as architecture + state_dict ------------------------------------------------------


def _plain_argument(value):
    if type(value) in (int, float, bool, str) or value is None:
        return value
    if type(value) in (tuple, list) and all(type(v) in (int, float) for v in value):
        return list(value)
    raise TypeError(f"an argument of type {type(value).__name__}")


def architecture(module, handle_of=None) -> dict | None:
    """Describe a model built only of :data:`LAYERS` as ``{"type", "args", "children"}``.

    Exactly those classes, not subclasses (a subclass may compute something else); else None. With
    ``handle_of`` (the kernel's end), a layer of another class that has no weights of its own (a
    student's ``Reshape``, ``Flatten``) becomes ``{"type": "$remote", "handle": ...}``: the grader
    runs it through the channel (:class:`RemoteLayer`), forward and backward."""
    name = type(module).__name__
    if isinstance(module, RemoteLayer):
        return {"type": "$remote", "handle": module.handle, "name": module.name}
    if name not in LAYERS or type(module) is not getattr(nn, name, None):
        if (handle_of is not None and not list(module.parameters())
                and not list(module.buffers())):
            return {"type": "$remote", "handle": handle_of(module), "name": name[:80]}
        return None
    args = {}
    for attribute in LAYERS[name]:
        value = getattr(module, attribute, None)
        if attribute == "bias" and name in ("Linear", "Conv1d", "Conv2d"):
            value = module.bias is not None
        try:
            args[attribute] = _plain_argument(value)
        except TypeError:
            return None
    children = []
    for child_name, child in module.named_children():
        spec = architecture(child, handle_of)
        if spec is None:
            return None
        children.append([child_name, spec])
    if children and name not in ("Sequential", "ModuleList"):
        return None
    return {"type": name, "args": args, "children": children}


def _build(spec, depth=0, remote=None):
    if isinstance(spec, dict) and spec.get("type") == "$remote" and remote is not None:
        return remote(spec.get("handle"), str(spec.get("name", ""))[:80])
    if depth > MAX_DEPTH or not isinstance(spec, dict) or spec.get("type") not in LAYERS:
        raise ChannelError(f"a model made of something else than standard layers: "
                           f"{str(spec)[:120]}")
    name, args, children = spec["type"], spec.get("args") or {}, spec.get("children") or []
    if not isinstance(args, dict) or set(args) - set(LAYERS[name]) or not isinstance(children,
                                                                                      list):
        raise ChannelError(f"unexpected arguments for nn.{name}: {str(args)[:120]}")
    args = {k: tuple(v) if isinstance(v, list) else v for k, v in args.items()}
    if name in ("Sequential", "ModuleList"):
        built = [(str(n), _build(c, depth + 1, remote)) for n, c in children]
        return (nn.Sequential(OrderedDict(built)) if name == "Sequential"
                else nn.ModuleList([m for _, m in built]))
    if children:
        raise ChannelError(f"nn.{name} with children")
    try:
        return getattr(nn, name)(**args)
    except Exception as error:
        raise ChannelError(f"nn.{name}({args}): {error}") from None


def build_model(spec: dict, state: dict, training: bool = False, remote=None) -> nn.Module:
    """The model of ``spec`` with the weights of ``state``.

    The shapes are compared on the meta device first: a reply cannot make the grader allocate more
    than the weights it holds. ``remote(handle, name)`` makes the layers that run through the
    channel.
    """
    with torch.device("meta"):
        model = _build(spec, remote=remote)
    expected = model.state_dict()
    if set(expected) != set(state):
        raise ChannelError("the weights do not match the model's layers: "
                           f"{sorted(set(expected) ^ set(state))[:5]}")
    for key, value in expected.items():
        if not isinstance(state[key], torch.Tensor) or state[key].shape != value.shape:
            raise ChannelError(f"the weight {key} has the wrong shape")
    model = model.to_empty(device="cpu")
    load_state(model, state)
    return model.train(bool(training))


def load_state(model: nn.Module, state: dict) -> None:
    """Copy ``state`` into ``model``'s own tensors, in place (references to them see it).

    Which parameters need gradients is kept as ``state`` says.
    """
    own = model.state_dict(keep_vars=True)
    if set(own) != set(state):
        raise ChannelError("the model came back with other layers than it was sent with")
    with torch.no_grad():
        for key, tensor in own.items():
            if tuple(tensor.shape) != tuple(state[key].shape):
                raise ChannelError(f"the model came back with {key} of another shape")
            tensor.copy_(state[key])
            if isinstance(tensor, nn.Parameter):
                tensor.requires_grad_(bool(state[key].requires_grad))


def model_state(model: nn.Module) -> dict:
    return {k: (v.detach().requires_grad_(v.requires_grad) if isinstance(v, nn.Parameter) else v)
            for k, v in model.state_dict(keep_vars=True).items()}


def _training_flags(model: nn.Module) -> list[bool]:
    return [m.training for m in model.modules()]


def _set_training_flags(model: nn.Module, flags) -> None:
    modules = list(model.modules())
    if isinstance(flags, list) and len(flags) == len(modules):
        for module, flag in zip(modules, flags):
            module.training = bool(flag)


class _ThroughChannel(torch.autograd.Function):
    @staticmethod
    def forward(ctx, layer, inputs):
        ctx.layer = layer
        ctx.save_for_backward(inputs)
        with torch.no_grad():
            output = layer.channel.request("call", ref=layer.handle, args=[inputs.detach()],
                                           kwargs=[])
        if not isinstance(output, torch.Tensor):
            raise TypeError(f"{layer.name} returned a {type(output).__name__}, not a tensor")
        return output

    @staticmethod
    def backward(ctx, grad_output):
        (inputs,) = ctx.saved_tensors
        layer = ctx.layer
        grad = layer.channel.request("vjp", ref=layer.handle, args=[inputs.detach(),
                                                                    grad_output.detach()])
        if not isinstance(grad, torch.Tensor) or grad.shape != inputs.shape:
            raise TypeError(f"{layer.name} gave a gradient of the wrong shape")
        return None, grad


class RemoteLayer(nn.Module):
    """A layer of the student's own class without weights (``Reshape``, ``Flatten``).

    The grader's copy of a model runs it in the kernel, one request forward and one backward.
    """

    def __init__(self, channel, handle, name):
        super().__init__()
        self.channel, self.handle, self.name = channel, handle, name

    def forward(self, inputs):
        if not isinstance(inputs, torch.Tensor):
            raise TypeError(f"{self.name} takes one tensor here")
        if inputs.requires_grad and torch.is_grad_enabled():
            return _ThroughChannel.apply(self, inputs)
        with torch.no_grad():
            output = self.channel.request("call", ref=self.handle, args=[inputs], kwargs=[])
        if not isinstance(output, torch.Tensor):
            raise TypeError(f"{self.name} returned a {type(output).__name__}, not a tensor")
        return output

    def extra_repr(self):
        return f"the student's {self.name}"

    def __deepcopy__(self, memo):
        # a copy of the model (e.g. to train it) shares the student's layer: it has no weights
        return RemoteLayer(self.channel, self.handle, self.name)


# --- the kernel's end -------------------------------------------------------------------------


class Server:
    """Runs in the student's kernel (so nothing in it is trusted).

    Keeps the student's objects the grader holds handles to, and the kernel's copies of the grader's
    models and optimizers.
    """

    def __init__(self, namespace: dict):
        self.namespace = namespace
        self.objects: dict[int, object] = {}
        self.handles: dict[int, int] = {}
        self.copies: dict[str, object] = {}

    def handle_of(self, value) -> int:
        handle = self.handles.get(id(value))
        if handle is None or self.objects.get(handle) is not value:
            handle = len(self.objects) + 1
            self.objects[handle], self.handles[id(value)] = value, handle
        return handle

    def encode_other(self, arguments):
        def other(value):
            for index, argument in enumerate(arguments):
                if value is argument and not isinstance(value, (int, float, str, bool)):
                    return {"$arg": index}
            if isinstance(value, nn.Module):
                spec = architecture(value, self.handle_of)
                if spec is not None:
                    return {"$model": {"handle": self.handle_of(value), "spec": spec,
                                       "state": encoder.encode(model_state(value)),
                                       "training": _training_flags(value)}}
            if inspect.ismodule(value):
                return {"$module": value.__name__, "handle": self.handle_of(value)}
            kind = ("class" if inspect.isclass(value) else "function" if callable(value)
                    else "object")
            return {"$ref": self.handle_of(value), "kind": kind,
                    "type": type(value).__name__ if kind == "object" else
                    getattr(value, "__name__", kind)}
        encoder = Encoder(other)
        return encoder

    def decode_argument(self, tag, value, depth, decoder):
        body = value[tag]
        if tag == "$ref":
            return self.objects[body]
        if tag == "$model":
            model = self.copies.get(body["key"])
            state = decoder.decode(body["state"], depth + 1)
            if model is None:
                model = self.copies[body["key"]] = build_model(
                    body["spec"], state, remote=lambda handle, name: self.objects[handle])
            else:
                load_state(model, state)
            _set_training_flags(model, body.get("training"))
            return model
        if tag == "$loader":
            tensors = decoder.decode(body["tensors"], depth + 1)
            return torch.utils.data.DataLoader(
                torch.utils.data.TensorDataset(*tensors), batch_size=body["batch_size"],
                shuffle=bool(body["shuffle"]), drop_last=bool(body["drop_last"]))
        if tag == "$path":
            where = self.folder / "files" / str(body["key"]) / Path(str(body["name"])).name
            where.parent.mkdir(parents=True, exist_ok=True)
            content = decoder.decode(body["content"], depth + 1)
            if isinstance(content, torch.Tensor):
                where.write_bytes(content.numpy().tobytes())
            else:
                where.unlink(missing_ok=True)
            return where
        if tag == "$optimizer":
            optimizer = self.copies.get(body["key"])
            if optimizer is None:
                groups = []
                for group in body["groups"]:
                    params = [dict(self.copies[key].named_parameters())[name]
                              for key, name in group["params"]]
                    groups.append({**decoder.decode(group["options"], depth + 1),
                                   "params": params})
                optimizer = self.copies[body["key"]] = getattr(torch.optim, body["type"])(groups)
            optimizer.load_state_dict(decoder.decode(body["state"], depth + 1))
            return optimizer
        raise ChannelError(f"unknown argument {tag}")

    def perform(self, request, decoder):
        def argument(value):
            return decoder.decode(value)
        op = request["op"]
        if op == "name":
            if request["name"] not in self.namespace:
                raise NameError(f"name '{request['name']}' is not defined")
            return self.namespace[request["name"]], []
        if op == "origin":
            if request["name"] not in self.namespace:
                raise NameError(f"name '{request['name']}' is not defined")
            return origin_of(self.namespace[request["name"]]), []
        target = self.objects[request["ref"]]
        if op == "getattr":
            return getattr(target, request["name"]), []
        if op == "getitem":
            return target[argument(request["key"])], []
        if op == "len":
            return len(target), []
        if op == "list":
            return list(target), []
        if op == "repr":
            return repr(target)[:2000], []
        if op == "vjp":
            inputs, grad_output = (argument(a) for a in request["args"])
            inputs = inputs.detach().requires_grad_()
            with torch.enable_grad():
                (grad,) = torch.autograd.grad(target(inputs), inputs, grad_output,
                                              allow_unused=True)
            return (torch.zeros_like(inputs) if grad is None else grad), []
        if op == "call":
            args = [argument(a) for a in request["args"]]
            kwargs = {k: argument(v) for k, v in request["kwargs"]}
            arguments = args + list(kwargs.values())
            self.before = [a.clone() if isinstance(a, torch.Tensor) else None for a in arguments]
            return target(*args, **kwargs), arguments
        raise ChannelError(f"unknown request {op!r}")

    def serve(self, folder: str, nonce: str) -> None:
        """Answer ``request-NONCE.json`` with ``reply-NONCE.json`` (and their ``.bin``)."""
        folder = self.folder = Path(folder)
        request = json.loads((folder / f"request-{nonce}.json").read_text())
        blob = (folder / f"request-{nonce}.bin").read_bytes()
        decoder = Decoder(blob)
        decoder.other = lambda tag, value, depth: self.decode_argument(tag, value, depth, decoder)
        arguments: list = []
        self.before = []
        rng = decoder.decode(request["rng"])
        reply: dict = {}
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(rng)
            try:
                value, arguments = self.perform(request, decoder)
                encoder = self.encode_other(arguments)
                reply["value"] = encoder.encode(value)
            except Exception as error:
                encoder = self.encode_other(arguments)
                reply["error"] = {"type": type(error).__name__,
                                  "message": (str(error).strip().splitlines() or [""])[0][:300]}
            reply["rng"] = encoder.encode(torch.get_rng_state())
        # what the call did to the grader's models, optimizers and tensors
        sync = []
        for index, argument in enumerate(arguments):
            if isinstance(argument, nn.Module) and any(argument is m for m in self.copies.values()):
                sync.append([index, "model", encoder.encode(model_state(argument)),
                             _training_flags(argument)])
            elif isinstance(argument, torch.optim.Optimizer):
                sync.append([index, "optimizer", encoder.encode(argument.state_dict())])
            elif isinstance(argument, torch.Tensor):
                before = self.before[index] if index < len(self.before) else None
                if before is None or before.shape != argument.shape or not torch.equal(
                        before, argument.detach()):
                    sync.append([index, "tensor", encoder.encode(argument)])
            elif isinstance(argument, Path) and argument.is_relative_to(folder / "files"):
                content = (torch.frombuffer(bytearray(argument.read_bytes()), dtype=torch.uint8)
                           if argument.is_file() and argument.stat().st_size else
                           torch.zeros(0, dtype=torch.uint8) if argument.is_file() else None)
                sync.append([index, "path", encoder.encode(content)])
        reply["sync"] = sync
        encoder.write(folder / f"reply-{nonce}.json", reply)


def origin_of(value) -> dict:
    """Say where the code of a function or class comes from (run in the kernel).

    For the grader's :func:`helpers.coursework.judge.course_copy`: ``{"kind", "modules", "files",
    "uses"}`` -- the module of the function (of a
    class: of every class it inherits from) and the files of their code. A function written in a
    notebook cell has the module ``__main__`` and a file of the kernel's own; one imported from the
    course package has ``helpers.xxx`` and a file inside ``helpers/``. ``uses``: the functions and
    classes its code calls by name (``module.qualname``), to find a thin wrapper around the
    course's own version of an exercise."""
    import functools
    import types

    seen = value
    for _ in range(10):   # functools.partial(f), a bound method, a decorated function: what runs
        if isinstance(seen, functools.partial):
            seen = seen.func
        elif isinstance(seen, types.MethodType):
            seen = seen.__func__
        elif getattr(seen, "__wrapped__", None) is not None:
            seen = seen.__wrapped__
        else:
            break
    modules, files = [], []

    def code_file(function):
        code = getattr(function, "__code__", None)
        return str(getattr(code, "co_filename", "") or "")

    uses: list[str] = []

    def used_by(function):
        """Collect the functions and classes the code reaches, as ``module.qualname``.

        By a global name (``polar_features``) or as an attribute of a module it names
        (``F.nll_loss``).
        """
        namespace = getattr(function, "__globals__", {}) or {}
        codes, names = [getattr(function, "__code__", None)], []
        while codes and len(names) < 2000:
            code = codes.pop()
            if code is None:
                continue
            names += list(code.co_names)
            codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
        modules = [namespace[n] for n in names if isinstance(namespace.get(n), types.ModuleType)]
        for name in names:
            targets = [namespace.get(name)] + [getattr(m, name, None) for m in modules]
            for target in targets:
                if inspect.isfunction(target) or inspect.isclass(target) or inspect.isbuiltin(
                        target):
                    uses.append(f"{getattr(target, '__module__', '')}."
                                f"{getattr(target, '__qualname__', name)}")

    if inspect.isclass(seen):
        kind = "class"
        for klass in seen.__mro__:
            if klass is object:
                continue
            modules.append(str(getattr(klass, "__module__", "") or ""))
            for attribute in vars(klass).values():
                function = getattr(attribute, "__func__", attribute)
                if inspect.isfunction(function):
                    files.append(code_file(function))
                    if klass is seen:
                        used_by(function)
    elif inspect.isfunction(seen):
        kind = "function"
        modules.append(str(getattr(seen, "__module__", "") or ""))
        files.append(code_file(seen))
        used_by(seen)
    else:
        kind = "object" if not callable(seen) else "callable"
        modules += [str(getattr(seen, "__module__", "") or ""),
                    str(getattr(type(seen), "__module__", "") or "")]
    return {"kind": kind, "modules": list(dict.fromkeys(modules))[:50],
            "files": list(dict.fromkeys(files))[:200], "uses": list(dict.fromkeys(uses))[:500]}


def serve(folder: str, nonce: str) -> None:
    """The one line the grader runs in the kernel per request."""
    import __main__
    server = getattr(__main__, "__grader_channel__", None)
    if server is None:
        try:
            namespace = get_ipython().user_ns  # noqa: F821 (IPython's)
        except NameError:
            namespace = vars(__main__)
        server = Server(namespace)
        __main__.__grader_channel__ = server
    server.serve(folder, nonce)


def warm_up() -> None:
    """Run in the kernel's set-up cell.

    What the first request would otherwise pay for (PyTorch's first optimizer and DataLoader import
    much of torch: seconds on a busy machine), so that it does not count against the student's time.
    """
    model = nn.Linear(1, 1)
    for optimizer in (torch.optim.SGD, torch.optim.Adam):
        optimizer(model.parameters(), lr=0.1).step()
    list(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(2, 1)),
                                     batch_size=1))
    Encoder().encode({"x": torch.zeros(1)})


class _NoChecks:
    """Stand in for ``checks`` in the kernel while an instructor's check cell runs there.

    The cell runs there for what else it does (prints, names it defines): every check is the
    grader's, and does nothing here.
    """

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def run_side_effects(source: str) -> None:
    """Run an instructor's check cell in the kernel with ``checks`` standing for nothing.

    The names it defines are there for the cells after it, as in the notebook.
    """
    import traceback

    from IPython.core.inputtransformer2 import TransformerManager
    namespace = get_ipython().user_ns  # noqa: F821
    saved = namespace.get("checks", None)
    namespace["checks"] = _NoChecks()
    try:
        exec(compile(TransformerManager().transform_cell(source), "<check>", "exec"), namespace)
    except Exception as error:
        print("".join(traceback.format_exception_only(type(error), error)).strip())
    finally:
        if saved is None:
            namespace.pop("checks", None)
        else:
            namespace["checks"] = saved


# --- the grader's end -------------------------------------------------------------------------


class KernelGone(BaseException):
    """The kernel died or stopped answering: no further request can be made."""


class Remote:
    """The grader's stand-in for one of the student's objects in the kernel."""

    __slots__ = ("_channel", "_handle", "_kind", "_name")

    def __init__(self, channel, handle, kind, name):
        object.__setattr__(self, "_channel", channel)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "_name", name)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._channel.request("getattr", ref=self._handle, name=name)

    def __setattr__(self, name, value):
        raise TypeError("the grader does not change the student's objects")

    def __call__(self, *args, **kwargs):
        return self._channel.request("call", ref=self._handle, args=list(args),
                                     kwargs=sorted(kwargs.items()))

    def __getitem__(self, key):
        return self._channel.request("getitem", ref=self._handle, key=key)

    def __len__(self):
        value = self._channel.request("len", ref=self._handle)
        if type(value) is not int or value < 0:
            raise TypeError("len() of the student's object is not a whole number")
        return value

    def __iter__(self):
        value = self._channel.request("list", ref=self._handle)
        if not isinstance(value, list):
            raise TypeError("the student's object cannot be iterated")
        return iter(value)

    def __repr__(self):
        return f"<the student's {self._kind} {self._name}>"

    def __bool__(self):
        return True


class Channel:
    """The grader's end.

    Sends requests into ``folder`` (the kernel's folder, which the kernel sees under
    ``kernel_folder``) and runs ``serve`` in the kernel through ``run`` (source, timeout -> "ran",
    "timeout" or raises :class:`KernelGone`).
    """

    def __init__(self, folder: Path, kernel_folder: str, run, timeout: float, prepare=None):
        self.folder, self.kernel_folder, self.run = folder, kernel_folder, run
        self.timeout = timeout
        self.prepare = prepare or (lambda: folder.mkdir(parents=True, exist_ok=True))
        #: seconds the student's code may still run in the kernel (None: only the per-call limit);
        #: the time the grader spends on its side does not count
        self.budget: float | None = None
        self.remotes: dict[int, object] = {}
        self.keys: dict[int, tuple[object, str]] = {}   # id(grader object) -> (object, key)
        self.sent: list = []
        self.calls = 0

    # -- arguments -----------------------------------------------------------------------------
    def key_of(self, value) -> str:
        known = self.keys.get(id(value))
        if known is None or known[0] is not value:
            known = self.keys[id(value)] = (value, f"k{len(self.keys) + 1}")
        return known[1]

    def encode_argument(self, value, encoder):
        if isinstance(value, Remote):
            if value._channel is not self:
                raise TypeError("a handle of another kernel")
            return {"$ref": value._handle}
        if isinstance(value, nn.Module):
            spec = architecture(value)
            if spec is None:
                raise TypeError(f"cannot send a {type(value).__name__} to the student's code")
            self.sent.append(value)
            return {"$model": {"key": self.key_of(value), "spec": spec,
                               "state": encoder.encode(model_state(value)),
                               "training": _training_flags(value)}}
        if isinstance(value, Path):
            # a file the student's code may read or write: its bytes travel, both ways
            content = (torch.frombuffer(bytearray(value.read_bytes()), dtype=torch.uint8)
                       if value.is_file() and value.stat().st_size else
                       torch.zeros(0, dtype=torch.uint8) if value.is_file() else None)
            key = hashlib.sha256(str(value.resolve()).encode()).hexdigest()[:16]
            return {"$path": {"key": key, "name": value.name,
                              "content": encoder.encode(content)}}
        if isinstance(value, torch.utils.data.DataLoader):
            dataset = value.dataset
            if type(dataset) is not torch.utils.data.TensorDataset:
                raise TypeError("only a DataLoader over a TensorDataset can be sent")
            self.sent.append(value)
            return {"$loader": {"tensors": encoder.encode(list(dataset.tensors)),
                                "batch_size": value.batch_size,
                                "shuffle": isinstance(value.sampler,
                                                      torch.utils.data.RandomSampler),
                                "drop_last": value.drop_last}}
        if isinstance(value, torch.optim.Optimizer):
            if type(value).__name__ not in OPTIMIZERS:
                raise TypeError(f"cannot send a {type(value).__name__} optimizer")
            owners = {}
            for model in self.sent:
                if isinstance(model, nn.Module):
                    for name, parameter in model.named_parameters():
                        owners[id(parameter)] = [self.key_of(model), name]
            groups = []
            for group in value.param_groups:
                if not all(id(p) in owners for p in group["params"]):
                    raise TypeError("an optimizer over parameters of a model not sent before it")
                options = {k: v for k, v in group.items() if k != "params"
                           and k in inspect.signature(type(value)).parameters}
                groups.append({"params": [owners[id(p)] for p in group["params"]],
                               "options": encoder.encode(options)})
            self.sent.append(value)
            return {"$optimizer": {"key": self.key_of(value), "type": type(value).__name__,
                                   "groups": groups, "state": encoder.encode(value.state_dict())}}
        raise TypeError(f"cannot send a {type(value).__name__} to the student's code")

    # -- replies -------------------------------------------------------------------------------
    def decode_reply_tag(self, tag, value, depth, decoder, arguments):
        if tag == "$arg":
            index = value[tag]
            if type(index) is not int or not 0 <= index < len(arguments):
                raise ChannelError("a reply names an argument that was not sent")
            return arguments[index]
        if tag == "$model":
            body = value[tag]
            state = decoder.decode(body.get("state"), depth + 1)
            if not isinstance(state, dict):
                raise ChannelError("a model without its weights")
            handle = body.get("handle")
            known = self.remotes.get(handle)
            if isinstance(known, nn.Module) and architecture(known) == body.get("spec"):
                load_state(known, state)
                model = known
            else:
                model = build_model(body.get("spec"), state,
                                    remote=lambda handle, name: RemoteLayer(self, handle, name))
                self.remotes[handle] = model
            _set_training_flags(model, body.get("training"))
            return model
        if tag == "$module":   # a module of the kernel's: never one of the grader's own
            return Remote(self, value.get("handle"), "module", str(value[tag])[:80])
        if tag == "$ref":
            return Remote(self, value[tag], str(value.get("kind", "object"))[:20],
                          str(value.get("type", ""))[:80])
        raise ChannelError(f"an unexpected value in a reply: {tag}")

    def request(self, op: str, **fields):
        import time

        from helpers.checks import core
        self.calls += 1
        nonce = secrets.token_hex(8)
        request_path = self.folder / f"request-{nonce}.json"
        reply_path = self.folder / f"reply-{nonce}.json"
        self.sent = []
        encoder = Encoder(lambda v: self.encode_argument(v, encoder))
        arguments = []
        payload = {"op": op, "rng": encoder.encode(torch.get_rng_state())}
        for key, value in fields.items():
            if key == "args":
                arguments += value
                payload["args"] = [encoder.encode(v) for v in value]
            elif key == "kwargs":
                arguments += [v for _, v in value]
                payload["kwargs"] = [[k, encoder.encode(v)] for k, v in value]
            elif key == "key":
                payload["key"] = encoder.encode(value)
            else:
                payload[key] = value
        self.prepare()
        for stale in self.folder.glob("reply-*"):
            stale.unlink(missing_ok=True)   # a file the submission wrote beforehand is no reply
        encoder.write(request_path, payload)
        timeout = self.timeout
        if self.budget is not None:
            timeout = min(timeout, self.budget)
            if timeout <= 0:
                raise core._TimeUp
        started = time.monotonic()
        try:
            state = self.run(f"__import__('helpers.coursework.channel', fromlist=['serve'])"
                             f".serve({self.kernel_folder!r}, {nonce!r})", max(1.0, timeout))
        finally:
            if self.budget is not None:
                self.budget -= time.monotonic() - started
            for path in (request_path, request_path.with_suffix(".bin")):
                path.unlink(missing_ok=True)
        if state == "timeout":
            raise core._TimeUp
        try:
            size = reply_path.stat().st_size + reply_path.with_suffix(".bin").stat().st_size
            if size > MAX_REPLY_BYTES:
                raise ChannelError(f"a reply of {size / 2**20:.0f} MB")
            reply = json.loads(reply_path.read_text())
            blob = reply_path.with_suffix(".bin").read_bytes()
        except FileNotFoundError:
            raise ChannelError("the kernel wrote no reply (the channel was changed?)") from None
        except (ValueError, RecursionError):
            raise ChannelError("the kernel wrote a malformed reply") from None
        finally:
            for path in (reply_path, reply_path.with_suffix(".bin")):
                path.unlink(missing_ok=True)
        if not isinstance(reply, dict):
            raise ChannelError("the kernel wrote a malformed reply")
        decoder = Decoder(blob)
        decoder.other = lambda tag, value, depth: self.decode_reply_tag(tag, value, depth,
                                                                        decoder, arguments)
        # (the kernel's random-number state is not taken back: the grader's stays its own, as if
        # the student's code had drawn nothing)
        self.apply_sync(reply.get("sync") or [], decoder, arguments)
        if "error" in reply:
            error = reply["error"] if isinstance(reply["error"], dict) else {}
            kind, message = str(error.get("type", "Error"))[:80], str(error.get("message", ""))
            raise EXCEPTIONS.get(kind, RemoteError)(message if kind in EXCEPTIONS
                                                    else f"{kind}: {message}")
        return decoder.decode(reply.get("value"))

    def apply_sync(self, sync, decoder, arguments) -> None:
        for item in sync:
            if not isinstance(item, list) or len(item) < 3 or type(item[0]) is not int \
                    or not 0 <= item[0] < len(arguments):
                raise ChannelError("a malformed reply")
            target, kind, value = arguments[item[0]], item[1], decoder.decode(item[2])
            if kind == "model" and isinstance(target, nn.Module) and isinstance(value, dict):
                load_state(target, value)
                _set_training_flags(target, item[3] if len(item) > 3 else None)
            elif kind == "optimizer" and isinstance(target, torch.optim.Optimizer):
                try:
                    target.load_state_dict(value)
                except Exception as error:
                    raise ChannelError(f"the optimizer came back changed: {error}") from None
            elif kind == "path" and isinstance(target, Path):
                if isinstance(value, torch.Tensor) and value.dtype == torch.uint8:
                    target.write_bytes(value.numpy().tobytes())
                elif value is None:
                    target.unlink(missing_ok=True)
            elif kind == "tensor" and isinstance(target, torch.Tensor) \
                    and isinstance(value, torch.Tensor) and value.shape == target.shape:
                if not torch.equal(value.to(target.dtype), target.detach()):
                    with torch.no_grad():
                        target.copy_(value)

    def lookup(self, name: str):
        return self.request("name", name=name)

    def origin(self, name: str) -> dict:
        """:func:`origin_of` the student's object ``name``, as the kernel says (checked here)."""
        value = self.request("origin", name=name)
        if not isinstance(value, dict):
            raise ChannelError("the kernel said nothing about where the code comes from")
        return {key: [str(v)[:500] for v in value.get(key) or [] if isinstance(v, str)]
                if key != "kind" else str(value.get("kind", ""))[:20]
                for key in ("kind", "modules", "files", "uses")}
