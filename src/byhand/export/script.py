"""Show the code: a network's passes as a standalone Python script that prints byhand's numbers.

`numpy_script(net, x, y, η)` writes the forward pass, the loss, backpropagation and one step of
gradient descent in plain NumPy, the lecture's way (h = σ(W¹x + b¹), δ² = ∂L/∂o ⊙ σ'(z²),
∂L/∂W² = δ²hᵀ, W ← W − η ∂L/∂W); `torch_script` does the same with nn.Sequential and autograd.
Both print every number under the name `expected(...)` gives it, so a test (or a student) can
hold them against the engine's. Each activation's and each loss's source comes from its own
table entry (`Activation.numpy`, `Activation.torch`, `Loss.code`), never from a copy here.

One sample is a vector; a batch is a matrix with one sample per column in the NumPy script (so
W @ x still reads as Wx) and one per row in the PyTorch script, as torch lays batches out. The
scripts compute in float64 whatever the model's dtype.
"""

from __future__ import annotations

import numpy as np

from byhand import features
from byhand.errors import ByhandError
from byhand.network import Network

Array = np.ndarray

SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _sup(n: int) -> str:
    return str(n).translate(SUPERSCRIPTS)


def activation_names(net: Network) -> list[str]:
    """The script's name of each layer's activation: h (one hidden layer) or h1, h2, …, then o."""
    hidden = len(net.layers) - 1
    return ["h" if hidden == 1 else f"h{l + 1}" for l in range(hidden)] + ["o"]


def _numbers(values: Array, indent: int) -> str:
    """An array as NumPy source with every digit (repr), a matrix one row per line."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        return "[" + ", ".join(repr(float(v)) for v in values) + "]"
    pad = " " * (indent + 1)
    return "[" + f",\n{pad}".join(_numbers(row, indent + 1) for row in values) + "]"


def _array(name: str, values: Array, comment: str = "", call: str = "np.array") -> str:
    head = f"{name} = {call}("
    return f"{head}{_numbers(values, len(head))}){'  # ' + comment if comment else ''}"


def _tensor(target: str, values: Array) -> str:
    head = f"    {target}.copy_(torch.tensor("
    return f"{head}{_numbers(values, len(head))}))"


def _prepare(net: Network, x, y) -> tuple[Network, Array, Array, bool]:
    """The float64 network and x, y as checked (samples, width) arrays, and whether x is a batch;
    for a network of input features, x holds raw points (x1, x2) and X their features."""
    names = features.of(net)
    net = net.astype("float64")
    X, batched = net.check_inputs(x if names is None else features.expand(x, names))
    Y = net.check_targets(y, X.shape[0])
    return net, X, Y, batched


def _points(x) -> Array:
    """Raw points (x1, x2) as rows, for a network of input features."""
    return np.atleast_2d(np.asarray(x, dtype=np.float64))


def _feature_lines(names: list[str], lib: str, rows: bool) -> list[str]:
    """Script lines making the features x from the point p, columns (NumPy) or rows (torch)."""
    formulas = ", ".join(features.FEATURES[n].source.format(lib=lib) for n in names)
    shown = ", ".join(features.labels(names))
    if rows:
        split = "x1, x2 = p[:, 0], p[:, 1]"
        join = f"x = torch.stack([{formulas}], dim=1)"
    else:
        split = "x1, x2 = p"
        join = f"x = np.array([{formulas}])"
    return [f"# the input features the network takes: {shown}", split, join]


def _checked(net: Network, x, y, lr: float) -> tuple[Network, Array, Array, bool]:
    """As _prepare, once the engine has run the passes the script will: a learning rate it
    refuses, or numbers that overflow, are an error before any script is written."""
    with np.errstate(all="ignore"):
        values = expected(net, x, y, lr)
    if not all(np.all(np.isfinite(v)) for v in values.values()):
        raise ByhandError(
            "the numbers overflow to infinity or NaN; use smaller inputs, weights or learning rate"
        )
    return _prepare(net, x, y)


def expected(net: Network, x, y, lr: float) -> dict[str, Array]:
    """The numbers both scripts print, by name, computed by the engine: z1, h, …, o, L, every δ,
    every gradient dW1, db1, …, the parameters W1, b1, … after one step, and L_after.

    Per-sample arrays are the engine's (samples × neurons), or a vector for one sample.
    """
    names_in = features.of(net)
    net, X, Y, batched = _prepare(net, x, y)
    fwd = net.forward(X)
    back = net.backward(fwd, Y)
    updated, loss_after = net.after_step(fwd, back, Y, lr)

    def sample(a: Array) -> Array:
        return a if batched else a[0]

    L = len(net.layers)
    values: dict[str, Array] = {}
    if names_in is not None:
        values["x"] = sample(X)
    for l, name in enumerate(activation_names(net), start=1):
        values[f"z{l}"] = sample(fwd.zs[l - 1])
        values[name] = sample(fwd.activations[l])
    values["L"] = np.array(back.loss)
    for l in reversed(range(1, L + 1)):
        values[f"delta{l}"] = sample(back.deltas[l - 1])
    for l in reversed(range(1, L + 1)):
        values[f"dW{l}"] = back.grad_W[l - 1]
        values[f"db{l}"] = back.grad_b[l - 1]
    for l, layer in enumerate(updated.layers, start=1):
        values[f"W{l}"] = layer.W
        values[f"b{l}"] = layer.b
    values["L_after"] = np.array(loss_after)
    return values


def _header(net: Network, tool: str, batched: bool, n: int) -> list[str]:
    shape = "-".join(map(str, net.sizes))
    acts = "/".join(layer.activation.name for layer in net.layers)
    layout = (
        f"A batch of {n} samples: the loss is their mean L̄ = (1/N) Σₙ L(oₙ, yₙ)."
        if batched
        else "One sample."
    )
    return [
        '"""What byhand shows for this network, step by step in ' + tool + ".",
        "",
        f"Network {shape} ({acts}), loss {net.loss.name}. {layout}",
        "Forward pass, loss, backpropagation and one step of gradient descent; every number",
        "is printed as `name = value` with all its digits. Written by `byhand export`.",
        '"""',
        "",
    ]


def _show_numpy() -> list[str]:
    return [
        "",
        "def show(**values):",
        '    """Print each value with every digit: name = number or [numbers]."""',
        "    for name, value in values.items():",
        '        print(f"{name} = {np.asarray(value).tolist()}")',
        "",
    ]


def numpy_script(net: Network, x, y, lr: float) -> str:
    """A standalone NumPy script computing, for inputs x and target y, what byhand shows."""
    names_in = features.of(net)
    net, X, Y, batched = _checked(net, x, y, lr)
    lines = _header(net, "NumPy", batched, len(X))
    lines += ["import numpy as np", "", ""]
    seen: list[str] = []
    for layer in net.layers:
        if layer.activation.name not in seen:
            seen.append(layer.activation.name)
            lines += [layer.activation.numpy.strip("\n"), "", ""]
    out = net.layers[-1].activation
    code = net.loss.code(out)
    lines += [code.numpy.strip("\n"), "", ""]
    lines += _show_numpy()[1:]

    L = len(net.layers)
    names = activation_names(net)
    sources = ["x"] + names[:-1]
    lines += ["", "# the network: layer l computes zˡ = Wˡa + bˡ (Wˡ: one row per neuron)"]
    for l, layer in enumerate(net.layers, start=1):
        lines += [_array(f"W{l}", layer.W), _array(f"b{l}", layer.b)]
    inputs = ", ".join(net.input_names) if net.input_names else ""
    outputs = ", ".join(net.output_names) if net.output_names else ""
    given, known = ("p", _points(x)) if names_in else ("x", X)
    if names_in:
        inputs = "the point x1, x2"
    if batched:
        lines += [
            "# one sample per column, so that W @ x reads as Wx",
            _array(given, known) + ".T" + (f"  # {inputs}" if inputs else ""),
            _array("y", Y) + ".T" + (f"  # {outputs}" if outputs else ""),
        ]
    else:
        lines += [_array(given, known[0], inputs), _array("y", Y[0], outputs)]
    if names_in:
        lines += _feature_lines(names_in, "np", rows=False)
    if batched:
        lines.append("N = x.shape[1]")
    lines += [f"eta = {float(lr)!r}  # the learning rate η", ""]

    def bias(l: int) -> str:
        return f"b{l}[:, None]" if batched else f"b{l}"

    formula = ", ".join(
        f"{a} = {layer.activation.symbol}(W{_sup(l)}{s} + b{_sup(l)})"
        for l, (a, s, layer) in enumerate(zip(names, sources, net.layers, strict=True), start=1)
    )
    lines.append(f"# forward pass: {formula}")
    for l, (a, s, layer) in enumerate(zip(names, sources, net.layers, strict=True), start=1):
        lines += [f"z{l} = W{l} @ {s} + {bias(l)}", f"{a} = {layer.activation.name}(z{l})"]
    loss_args = code.args.replace("z", f"z{L}")
    mean_loss = f"np.mean(loss({loss_args}))" if batched else f"loss({loss_args})"
    lines += [f"L = {mean_loss}", ""]
    shown = ", ".join(f"z{l}=z{l}, {a}={a}" for l, a in enumerate(names, start=1))
    lines += [f"show({'x=x, ' if names_in else ''}{shown}, L=L)", ""]

    lines.append("# backpropagation: δ = ∂L/∂z, from the output layer back")
    if code.delta is not None:
        lines.append(f"delta{L} = {code.delta}")
    elif out.elementwise:
        lines.append(f"delta{L} = dL_do(o, y) * {out.name}_prime(z{L}, o)")
    else:
        lines.append(f"delta{L} = {out.name}_backward(o, dL_do(o, y))")
    for l in reversed(range(1, L)):
        act = net.layers[l - 1].activation
        lines.append(
            f"delta{l} = (W{l + 1}.T @ delta{l + 1}) * {act.name}_prime(z{l}, {names[l - 1]})"
        )
    for l in reversed(range(1, L + 1)):
        s = sources[l - 1]
        if batched:
            lines += [f"dW{l} = delta{l} @ {s}.T / N", f"db{l} = np.mean(delta{l}, axis=1)"]
        else:
            lines += [f"dW{l} = np.outer(delta{l}, {s})", f"db{l} = delta{l}"]
    deltas = ", ".join(f"delta{l}=delta{l}" for l in reversed(range(1, L + 1)))
    grads = ", ".join(f"dW{l}=dW{l}, db{l}=db{l}" for l in reversed(range(1, L + 1)))
    lines += [f"show({deltas})", f"show({grads})", ""]

    lines.append("# one step of gradient descent: W ← W − η ∂L/∂W, b ← b − η ∂L/∂b")
    for l in range(1, L + 1):
        lines += [f"W{l} = W{l} - eta * dW{l}", f"b{l} = b{l} - eta * db{l}"]
    params = ", ".join(f"W{l}=W{l}, b{l}=b{l}" for l in range(1, L + 1))
    lines += [f"show({params})", "", "# the same forward pass with the new parameters"]
    for l, (a, s, layer) in enumerate(zip(names, sources, net.layers, strict=True), start=1):
        lines += [f"z{l} = W{l} @ {s} + {bias(l)}", f"{a} = {layer.activation.name}(z{l})"]
    lines += [f"show(L_after={mean_loss})", ""]
    return "\n".join(lines)


def torch_script(net: Network, x, y, lr: float) -> str:
    """A standalone PyTorch script (nn.Sequential and autograd) printing what byhand shows."""
    names_in = features.of(net)
    net, X, Y, batched = _checked(net, x, y, lr)
    lines = _header(net, "PyTorch", batched, len(X))
    lines += [
        "import torch",
        "from torch import nn",
        "",
        "torch.set_default_dtype(torch.float64)",
        "",
        "",
        "def show(**values):",
        '    """Print each value with every digit: name = number or [numbers]."""',
        "    for name, value in values.items():",
        '        print(f"{name} = {value.detach().tolist()}")',
        "",
        "",
        "# layer l: nn.Linear computes z = a Wᵀ + b (weight: one row per neuron), then f(z)",
        "net = nn.Sequential(",
    ]
    for layer in net.layers:
        lines.append(f"    nn.Linear({layer.n_in}, {layer.n_out}), {layer.activation.torch},")
    lines += [")", "with torch.no_grad():"]
    for l, layer in enumerate(net.layers):
        lines += [_tensor(f"net[{2 * l}].weight", layer.W), _tensor(f"net[{2 * l}].bias", layer.b)]
    given, known = ("p", _points(x)) if names_in else ("x", X)
    lines += [
        "# one sample per row",
        _array(given, known, call="torch.tensor"),
        _array("y", Y, call="torch.tensor"),
    ]
    if names_in:
        lines += _feature_lines(names_in, "torch", rows=True)
    lines += [f"eta = {float(lr)!r}  # the learning rate η", ""]
    L = len(net.layers)
    names = activation_names(net)
    every = ", ".join(v for l, a in enumerate(names, start=1) for v in (f"z{l}", a))
    code = net.loss.code(net.layers[-1].activation)
    one = "" if batched else "[0]"
    lines += [
        "",
        "def loss(z, o, y):",
        f'    """The batch\'s mean loss {net.loss.name}, from the output layer\'s z and o."""',
        f"    return {code.torch}",
        "",
        "",
        "# forward pass, keeping every z and activation so autograd gives each δ = ∂L/∂z",
        "values = [x]",
        "for module in net:",
        "    values.append(module(values[-1]))",
        "    values[-1].retain_grad()",
        f"{every} = values[1:]",
        f"L = loss(z{L}, o, y)",
        "L.backward()",
        "N = x.shape[0]",
        "show("
        + (f"x=x{one}, " if names_in else "")
        + ", ".join(f"z{l}=z{l}{one}, {a}={a}{one}" for l, a in enumerate(names, start=1))
        + ", L=L)",
        "# z.grad is ∂L̄/∂z = δ/N: the mean loss shares each sample's δ out",
        "show("
        + ", ".join(f"delta{l}=z{l}.grad{one} * N" for l in reversed(range(1, L + 1)))
        + ")",
        "show("
        + ", ".join(
            f"dW{l + 1}=net[{2 * l}].weight.grad, db{l + 1}=net[{2 * l}].bias.grad"
            for l in reversed(range(L))
        )
        + ")",
        "",
        "# one step of gradient descent: W ← W − η ∂L/∂W, b ← b − η ∂L/∂b",
        "torch.optim.SGD(net.parameters(), lr=eta).step()",
        "show("
        + ", ".join(f"W{l + 1}=net[{2 * l}].weight, b{l + 1}=net[{2 * l}].bias" for l in range(L))
        + ")",
        "with torch.no_grad():",
        f"    z{L} = net[:-1](x)",
        f"    o = net[-1](z{L})",
        f"    show(L_after=loss(z{L}, o, y))",
        "",
    ]
    return "\n".join(lines)
