"""Show the code: a network's passes as a standalone Python script that prints byhand's numbers.

`numpy_script(net, x, y, η)` writes the forward pass, the loss, backpropagation and one step of
gradient descent in plain NumPy, the lecture's way (h = σ(W¹x + b¹), δ² = ∂L/∂o ⊙ σ'(z²),
∂L/∂W² = δ²hᵀ, W ← W − η ∂L/∂W); `torch_script` does the same with nn.Sequential and autograd.
Both print every number under the name `expected(...)` gives it, so a test (or a student) can
hold them against the engine's. Each activation's and each loss's source comes from its own
table entry (`Activation.numpy`, `Activation.torch`, `Loss.code`), never from a copy here.

One sample is a vector, and the lecture's z = Wx + b reads as W @ x + b; a batch is a matrix
with one sample per row, as the engine and torch lay batches out, and z = x Wᵀ + b computes
the same for every row at once. The scripts compute in float64 whatever the model's dtype.

`training_script(ds, trainer, …)` writes a whole `byhand train` run (data, split,
standardisation, initial weights from the seed, shuffles, mini-batches, optimiser, L2); it
prints the engine's losses and model to rounding (tests/test_script_export.py measures how
close).
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


def _sequential_lines(net: Network) -> list[str]:
    """The torch scripts' nn.Sequential of the network's layers, then `with torch.no_grad():`
    (the block that fills its weights follows)."""
    lines = [
        "# layer l: nn.Linear computes z = a Wᵀ + b (weight: one row per neuron), then f(z)",
        "net = nn.Sequential(",
    ]
    for layer in net.layers:
        lines.append(f"    nn.Linear({layer.n_in}, {layer.n_out}), {layer.activation.torch},")
    return [*lines, ")", "with torch.no_grad():"]


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


def _feature_lines(names: list[str], lib: str) -> list[str]:
    """Script lines making the features x from the point p (a vector, or one point a row)."""
    formulas = ", ".join(features.FEATURES[n].source.format(lib=lib) for n in names)
    shown = ", ".join(features.labels(names))
    axis = "axis" if lib == "np" else "dim"
    return [
        f"# the input features the network takes: {shown}",
        "x1, x2 = p[..., 0], p[..., 1]",
        f"x = {lib}.stack([{formulas}], {axis}=-1)",
    ]


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
            "# one sample per row: z = x Wᵀ + b is the lecture's z = Wx + b for every row",
            _array(given, known, inputs),
            _array("y", Y, outputs),
        ]
    else:
        lines += [_array(given, known[0], inputs), _array("y", Y[0], outputs)]
    if names_in:
        lines += _feature_lines(names_in, "np")
    if batched:
        lines.append("N = len(x)")
    lines += [f"eta = {float(lr)!r}  # the learning rate η", ""]

    def weighted(l: int, s: str) -> str:
        return f"{s} @ W{l}.T + b{l}" if batched else f"W{l} @ {s} + b{l}"

    formula = ", ".join(
        f"{a} = {layer.activation.symbol}(W{_sup(l)}{s} + b{_sup(l)})"
        for l, (a, s, layer) in enumerate(zip(names, sources, net.layers, strict=True), start=1)
    )
    lines.append(f"# forward pass: {formula}")
    for l, (a, s, layer) in enumerate(zip(names, sources, net.layers, strict=True), start=1):
        lines += [f"z{l} = {weighted(l, s)}", f"{a} = {layer.activation.name}(z{l})"]
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
        back = f"delta{l + 1} @ W{l + 1}" if batched else f"W{l + 1}.T @ delta{l + 1}"
        lines.append(f"delta{l} = ({back}) * {act.name}_prime(z{l}, {names[l - 1]})")
    for l in reversed(range(1, L + 1)):
        s = sources[l - 1]
        if batched:
            lines += [f"dW{l} = delta{l}.T @ {s} / N", f"db{l} = np.mean(delta{l}, axis=0)"]
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
        lines += [f"z{l} = {weighted(l, s)}", f"{a} = {layer.activation.name}(z{l})"]
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
        *_sequential_lines(net),
    ]
    for l, layer in enumerate(net.layers):
        lines += [_tensor(f"net[{2 * l}].weight", layer.W), _tensor(f"net[{2 * l}].bias", layer.b)]
    given, known = ("p", _points(x)) if names_in else ("x", X)
    lines += [
        "# one sample per row",
        _array(given, known, call="torch.tensor"),
        _array("y", Y, call="torch.tensor"),
    ]
    if names_in:
        lines += _feature_lines(names_in, "torch")
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


# --- a whole training run ---------------------------------------------------------------------


def _step_lines(optimizer) -> tuple[list[str], list[str]]:
    """(lines before training, lines of one update) for `optimizer`, its constants read from it."""
    name = optimizer.name
    if name == "sgd":
        return [], [
            "        for p, g in zip(params, grads):",
            "            p -= eta * g  # θ ← θ − η ∂L̄/∂θ",
        ]
    if name == "momentum":
        return [
            f"mu = {optimizer.mu!r}  # momentum μ",
            "velocity = [np.zeros_like(p) for p in params]",
        ], [
            "        for p, g, v in zip(params, grads, velocity):",
            "            v *= mu  # v ← μv − η ∂L̄/∂θ",
            "            v -= eta * g",
            "            p += v  # θ ← θ + v",
        ]
    return [
        f"beta1, beta2, eps = {optimizer.beta1!r}, {optimizer.beta2!r}, {optimizer.eps!r}",
        "m = [np.zeros_like(p) for p in params]",
        "v = [np.zeros_like(p) for p in params]",
        "t = 0",
    ], [
        "        t += 1",
        "        for p, g, m_p, v_p in zip(params, grads, m, v):",
        "            m_p *= beta1  # m ← β₁m + (1 − β₁)g",
        "            m_p += (1 - beta1) * g",
        "            v_p *= beta2  # v ← β₂v + (1 − β₂)g²",
        "            v_p += (1 - beta2) * g * g",
        "            # θ ← θ − η m̂/(√v̂ + ε), m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)",
        "            p -= eta * (m_p / (1 - beta1**t)) / (np.sqrt(v_p / (1 - beta2**t)) + eps)",
    ]


def check_training_run(ds, dtype) -> None:
    """Refuse, before any training, a run the training script does not cover."""
    if ds.labels is None:
        raise ByhandError(
            "the training scripts cover class labels; this data set has numbers to predict"
        )
    if np.dtype(dtype) != np.float64:
        raise ByhandError("the training scripts compute in float64; drop --dtype")


def _features_function(feature_names: list[str] | None) -> list[str]:
    """The script's input_features(p), for a run on input features (NumPy; torch reads it)."""
    if not feature_names:
        return []
    formulas = ", ".join(features.FEATURES[n].source.format(lib="np") for n in feature_names)
    return [
        "def input_features(p):",
        f'    """The features {", ".join(features.labels(feature_names))} of points p'
        ' (one a row)."""',
        "    x1, x2 = p[..., 0], p[..., 1]",
        f"    return np.stack([{formulas}], axis=-1)",
        "",
        "",
    ]


def _data_lines(ds, train, test, seed: int, test_split: float, feature_names, standardise):
    """The training (and test) set as NumPy arrays, one sample a row, standardised as byhand
    standardises them: X_train, Y_train, labels_train (and _test), and mean, std."""
    what = "points" if feature_names else "samples"
    held = f", {test_split:g} held out to test" if test else ""
    lines = [f"# the {what} of {ds.name} as byhand split them (seed {seed}{held}), one a row"]
    for part, tag in ((train, "train"), (test, "test")):
        if part is None:
            continue
        raw = "P" if feature_names else "X"
        lines += [
            _array(f"{raw}_{tag}", part.X),
            f"labels_{tag} = np.array({part.labels.tolist()})",
            f"Y_{tag} = np.eye({ds.n_outputs})[labels_{tag}]  # one-hot targets",
        ]
        if feature_names:
            lines.append(f"X_{tag} = input_features(P_{tag})")
    if standardise:
        lines += [
            "",
            "# standardise each input with the training set's mean μ and deviation s",
            "mean, std = X_train.mean(axis=0), X_train.std(axis=0)",
            "std = np.where(std > 0, std, 1.0)",
            "X_train = (X_train - mean) / std",
        ]
        if test:
            lines.append("X_test = (X_test - mean) / std")
    return lines


def _init_lines(sizes: list[int], seed: int) -> list[str]:
    """Xavier's initial weights drawn as Network.create draws them, from the seed."""
    lines = [
        "# Xavier's initial weights, from the seed: W ~ U(−√(6/(n_in + n_out)), +√…), b = 0",
        f"init = np.random.default_rng({seed})",
    ]
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        lines += [
            f"limit = np.sqrt(6.0 / ({n_in} + {n_out}))",
            f"W{l}, b{l} = init.uniform(-limit, limit, ({n_out}, {n_in})), np.zeros({n_out})",
        ]
    return lines


def _report(test) -> str:
    report = "train loss {train_loss!r}, accuracy {train_acc!r}"
    if test:
        report += ", test loss {test_loss!r}, accuracy {test_acc!r}"
    return f'    print(f"epoch {{epoch}}: {report}")'


def _fold_lines(standardise: bool, L: int, lib: str = "np") -> list[str]:
    """The standardisation folded into the first layer, as the saved model has it; then W, b."""
    lines = []
    if standardise:
        lines += [
            "# the model byhand saves takes raw inputs: W' = W/s column by column, b' = b − W(μ/s)",
            "b1 = b1 - W1 @ (mean / std)",
            "W1 = W1 / std",
        ]
    shown = ", ".join(f"{p}={p}.tolist()" for l in range(1, L + 1) for p in (f"W{l}", f"b{l}"))
    return lines + [
        f"for name, value in dict({shown}).items():",
        '    print(f"{name} = {value}")',
        "",
    ]


def _training_header(ds, trainer, epochs: int, tool: str) -> list[str]:
    net, opt = trainer.net, trainer.optimizer
    shape = "-".join(map(str, net.sizes))
    acts = "/".join(layer.activation.name for layer in net.layers)
    l2 = f", L2 λ = {trainer.l2:g}" if trainer.l2 else ""
    return [
        f'"""Train the network `byhand train` trained on {ds.name}, the same way, in {tool}.',
        "",
        f"Network {shape} ({acts}), loss {net.loss.name}.",
        f"{opt.name} with η = {trainer.lr:g}{l2}, batches of {trainer.batch}, {epochs} epochs, "
        f"seed {trainer.seed}.",
        "One sample is a row, so z = x Wᵀ + b is the lecture's z = Wx + b for a whole batch.",
        "Prints each epoch's losses and accuracies, then the model byhand saves.",
        '"""',
        "",
    ]


def training_script(
    ds,
    trainer,
    *,
    epochs: int,
    test_split: float,
    standardise: bool,
    feature_names: list[str] | None = None,
) -> str:
    """A NumPy script that trains `trainer`'s network as `byhand train` did: the same data and
    split, the same initial weights (Xavier, from the seed), the same shuffles, mini-batches,
    optimiser and L2; it prints each epoch's losses and accuracies and the saved model's W, b.

    `ds` is the data set as loaded (its raw points when `feature_names` are given), with class
    labels; only the trainer's settings are read. The script writes each step the lecture's
    way; the engine computes the same in fewer passes (its update fused into one BLAS call), so
    the numbers agree to rounding, which training may amplify over many steps.
    """
    net = trainer.net
    check_training_run(ds, net.dtype)
    seed = trainer.seed
    train, test = ds.split(test_split, seed) if test_split > 0 else (ds, None)
    L = len(net.layers)
    names = activation_names(net)
    out = net.layers[-1].activation
    code = net.loss.code(out)
    opt = trainer.optimizer
    lines = [*_training_header(ds, trainer, epochs, "NumPy"), "import numpy as np", "", ""]
    seen: list[str] = []
    for layer in net.layers:
        if layer.activation.name not in seen:
            seen.append(layer.activation.name)
            lines += [layer.activation.numpy.strip("\n"), "", ""]
    lines += [code.numpy.strip("\n"), "", "", *_features_function(feature_names)]
    sources = ["x"] + names[:-1]
    every = ", ".join(v for l, a in enumerate(names, start=1) for v in (f"z{l}", a))
    loss_args = code.args.replace("z", f"z{L}")
    lines += [
        "def forward(x):",
        '    """Every layer\'s z and activation for the samples x (one a row)."""',
    ]
    for l, (a, s, layer) in enumerate(zip(names, sources, net.layers, strict=True), start=1):
        lines += [f"    z{l} = {s} @ W{l}.T + b{l}", f"    {a} = {layer.activation.name}(z{l})"]
    lines += [
        f"    return {every}",
        "",
        "",
        "def measure(x, y, labels):",
        '    """The mean loss and the share of samples whose largest output is their class."""',
        f"    {every} = forward(x)",
        f"    L = float(np.mean(loss({loss_args})))",
        "    return L, float(np.mean(np.argmax(o, axis=1) == labels))",
        "",
        "",
        *_data_lines(ds, train, test, seed, test_split, feature_names, standardise),
        "",
        *_init_lines(net.sizes, seed),
    ]
    params = ", ".join(f"W{l}, b{l}" for l in range(1, L + 1))
    before, update = _step_lines(opt)
    lines += [
        f"params = [{params}]  # updated in place",
        f"eta = {trainer.lr!r}  # the learning rate η",
    ]
    if trainer.l2:
        lines.append(f"lam = {trainer.l2!r}  # L2: (λ/2)ΣW² added to the loss, λW to ∂L/∂W")
    lines += [
        f"batch, epochs = {trainer.batch}, {epochs}",
        *before,
        f"shuffle = np.random.default_rng({seed})",
        "",
        "for epoch in range(1, epochs + 1):",
        "    order = shuffle.permutation(len(X_train))",
        "    for start in range(0, len(order), batch):",
        "        rows = order[start : start + batch]",
        "        x, y = X_train[rows], Y_train[rows]",
        "        n = len(x)",
        f"        {every} = forward(x)",
        "        # backpropagation, then the gradients of the batch's mean loss L̄",
    ]
    if code.delta is not None:
        first = code.delta
    elif out.elementwise:
        first = f"dL_do(o, y) * {out.name}_prime(z{L}, o)"
    else:
        first = f"{out.name}_backward(o, dL_do(o, y))"
    lines.append(f"        delta{L} = {first}")
    for l in reversed(range(1, L)):
        act = net.layers[l - 1].activation
        lines.append(
            f"        delta{l} = (delta{l + 1} @ W{l + 1}) * {act.name}_prime(z{l}, {names[l - 1]})"
        )
    lines.append("        grads = [")
    for l in range(1, L + 1):
        dW = f"delta{l}.T @ {sources[l - 1]} / n" + (f" + lam * W{l}" if trainer.l2 else "")
        lines += [f"            {dW},", f"            np.mean(delta{l}, axis=0),"]
    lines += ["        ]", *update]
    lines.append("    train_loss, train_acc = measure(X_train, Y_train, labels_train)")
    if test:
        lines.append("    test_loss, test_acc = measure(X_test, Y_test, labels_test)")
    lines += [_report(test), "", *_fold_lines(standardise, L)]
    return "\n".join(lines)


def torch_training_script(
    ds,
    trainer,
    *,
    epochs: int,
    test_split: float,
    standardise: bool,
    feature_names: list[str] | None = None,
) -> str:
    """The same run as `training_script`, trained by PyTorch: nn.Sequential, autograd, and
    torch.optim's SGD (with momentum) or Adam, L2 as weight decay on the weights alone; the
    data, initial weights and shuffles drawn with NumPy from the same seed."""
    net = trainer.net
    check_training_run(ds, net.dtype)
    seed = trainer.seed
    train, test = ds.split(test_split, seed) if test_split > 0 else (ds, None)
    L = len(net.layers)
    code = net.loss.code(net.layers[-1].activation)
    opt = trainer.optimizer
    lines = [
        *_training_header(ds, trainer, epochs, "PyTorch"),
        "import numpy as np",
        "import torch",
        "from torch import nn",
        "",
        "torch.set_default_dtype(torch.float64)",
        "",
        "",
        "def loss(z, o, y):",
        f'    """The batch\'s mean loss {net.loss.name}, from the output layer\'s z and o."""',
        f"    return {code.torch}",
        "",
        "",
        *_features_function(feature_names),
        *_data_lines(ds, train, test, seed, test_split, feature_names, standardise),
        "",
        *_init_lines(net.sizes, seed),
        "",
        *_sequential_lines(net),
    ]
    for l in range(L):
        lines += [
            f"    net[{2 * l}].weight.copy_(torch.from_numpy(W{l + 1}))",
            f"    net[{2 * l}].bias.copy_(torch.from_numpy(b{l + 1}))",
        ]
    lines += [
        "weights = [net[i].weight for i in range(0, len(net), 2)]",
        "biases = [net[i].bias for i in range(0, len(net), 2)]",
        f"eta = {trainer.lr!r}  # the learning rate η",
    ]
    decay = trainer.l2
    if decay:
        lines.append("# L2: weight decay adds λW to ∂L/∂W, as the penalty (λ/2)ΣW² does")
    lines.append(
        f'groups = [{{"params": weights, "weight_decay": {decay!r}}}, {{"params": biases}}]'
    )
    if opt.name == "sgd":
        lines.append("optimizer = torch.optim.SGD(groups, lr=eta)")
    elif opt.name == "momentum":
        lines += [
            "# torch keeps v' = μv' + g and steps θ ← θ − ηv': byhand's v ← μv − ηg, θ ← θ + v",
            f"optimizer = torch.optim.SGD(groups, lr=eta, momentum={opt.mu!r})",
        ]
    else:
        lines.append(
            f"optimizer = torch.optim.Adam(groups, lr=eta, betas=({opt.beta1!r}, {opt.beta2!r}), "
            f"eps={opt.eps!r})"
        )
    lines += [
        "X, Y = torch.from_numpy(X_train), torch.from_numpy(Y_train)",
        "",
        "",
        "def measure(x, y, labels):",
        '    """The mean loss and the share of samples whose largest output is their class."""',
        "    with torch.no_grad():",
        "        x, y = torch.from_numpy(x), torch.from_numpy(y)",
        "        z = net[:-1](x)",
        "        o = net[-1](z)",
        "        L = float(loss(z, o, y))",
        "        return L, float(np.mean(o.argmax(dim=1).numpy() == labels))",
        "",
        "",
        f"batch, epochs = {trainer.batch}, {epochs}",
        f"shuffle = np.random.default_rng({seed})",
        "for epoch in range(1, epochs + 1):",
        "    order = torch.from_numpy(shuffle.permutation(len(X)))",
        "    for start in range(0, len(order), batch):",
        "        rows = order[start : start + batch]",
        "        optimizer.zero_grad()",
        "        z = net[:-1](X[rows])  # the output layer's z, then o = f(z)",
        "        loss(z, net[-1](z), Y[rows]).backward()",
        "        optimizer.step()",
        "    train_loss, train_acc = measure(X_train, Y_train, labels_train)",
    ]
    if test:
        lines.append("    test_loss, test_acc = measure(X_test, Y_test, labels_test)")
    lines += [_report(test), ""]
    lines += [
        "with torch.no_grad():",
        *[
            f"    W{l + 1}, b{l + 1} = net[{2 * l}].weight.numpy(), net[{2 * l}].bias.numpy()"
            for l in range(L)
        ],
        *_fold_lines(standardise, L),
    ]
    return "\n".join(lines)


#: the scripts `byhand train` writes, by kind
TRAINING_SCRIPTS = {"numpy": training_script, "torch": torch_training_script}
