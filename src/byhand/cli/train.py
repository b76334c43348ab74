"""`byhand train`, `byhand predict`, `byhand evaluate`: learn from a data set, then use the model."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import click
import numpy as np

from byhand import data as datasets
from byhand import features, limits, modelfile
from byhand.activations import ACTIVATIONS
from byhand.cli.common import (
    INTERRUPTED,
    PLOT_SUFFIXES,
    app,
    check_writable,
    fail,
    json_option,
    parse_numbers,
    plural,
    print_json,
)
from byhand.cli.tables import table
from byhand.errors import ByhandError
from byhand.losses import LOSSES
from byhand.network import DTYPES, Network
from byhand.optimizers import DEFAULT_LR, DEFAULT_LR_UNBOUNDED, OPTIMIZERS
from byhand.train import MAX_EPOCHS, Trainer, confusion_matrix, evaluate, predict_in_chunks

#: a confusion matrix with more classes than this is left out of the table
MAX_MATRIX_CLASSES = 20
#: the widest hidden layer --layers may ask for (the server's limit too), and the most weights
#: and biases a network may have: both from the one table of limits
MAX_WIDTH = limits.MAX_WIDTH
MAX_PARAMETERS = limits.MAX_TRAIN_PARAMETERS


def _layers(text: str | None, ds: datasets.Dataset) -> list[int]:
    """--layers 64,30,10 as widths; without it: inputs, 30, outputs."""
    if text is None:
        return [ds.n_features, 30, ds.n_outputs]
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise ByhandError(
            f"--layers: give whole numbers separated by commas, not {text!r}"
        ) from None
    if len(sizes) < 2 or any(n < 1 for n in sizes):
        raise ByhandError(f"--layers: give at least two widths of 1 or more, not {text!r}")
    if any(n > MAX_WIDTH for n in sizes[1:-1]):
        raise ByhandError(
            f"--layers: a hidden layer may have at most {MAX_WIDTH} neurons, not {max(sizes[1:-1])}"
        )
    if sizes[0] != ds.n_features:
        raise ByhandError(
            f"--layers starts with {sizes[0]} inputs but {ds.name} has {ds.n_features} features"
        )
    if sizes[-1] != ds.n_outputs:
        what = f"{ds.n_outputs} classes" if ds.class_names else f"{ds.n_outputs} target"
        raise ByhandError(f"--layers ends with {sizes[-1]} outputs but {ds.name} has {what}")
    return sizes


def _check_size(sizes: list[int]) -> None:
    """Refuse a network too big to train here before any memory is taken for it."""
    count = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))
    if count > MAX_PARAMETERS:
        raise ByhandError(
            f"the network {'-'.join(map(str, sizes))} has {count:,} weights and biases, more "
            f"than the {MAX_PARAMETERS:,} byhand trains; use narrower or fewer layers"
        )


def _output_activation(given: str | None, loss: str, ds: datasets.Dataset) -> str:
    """identity for numbers, softmax before cross-entropy, sigmoid otherwise (the lecture's)."""
    if given is not None:
        return given
    if not ds.is_classification:
        return "identity"
    return "softmax" if loss == "cross_entropy" else "sigmoid"


def _percent(value: float | None) -> str:
    """An accuracy as the page writes it: 97.3%, 100% (`byhand.numbers.column`, 1 decimal)."""
    from byhand import numbers

    return "—" if value is None else f"{numbers.column(100 * value, 1)}%"


def _loss(value: float | None) -> str:
    """A loss or an output for a table: 4 decimals kept, 3.2 × 10⁻⁷ when tiny
    (`byhand.numbers.column`); — when there is none."""
    from byhand import numbers

    return "—" if value is None else numbers.column(value)


def _metrics(record: dict) -> str:
    text = f"loss {_loss(record['train_loss'])}"
    if record["train_accuracy"] is not None:
        text += f"  acc {_percent(record['train_accuracy'])}"
    if record["test_loss"] is not None:
        text += f"  test loss {_loss(record['test_loss'])}"
    if record["test_accuracy"] is not None:
        text += f"  test acc {_percent(record['test_accuracy'])}"
    return text


def _confusion_table(C: np.ndarray, names: list[str], title: str) -> str:
    """C as a table: a row per true class, a column per predicted one."""
    header = ["true ↓ / predicted →", *(name[:12] for name in names)]
    rows = [[name[:20], *map(str, C[i])] for i, name in enumerate(names)]
    return table(title, header, rows)


def _untitled(header: list[str], rows: list[list[str]]) -> str:
    """A table with no title line above it."""
    return table("", header, rows).split("\n", 1)[1]


def _load_data(name: str, target: str | None, task: str, samples, noise, seed) -> datasets.Dataset:
    options = {}
    if samples is not None:
        options["samples"] = samples
    if noise is not None:
        options["noise"] = noise
    if name in datasets.DATASETS:
        options["seed"] = seed
    return datasets.load_any(name, target, task=task, **options)


def _data_options(f):
    f = click.option(
        "--task",
        type=click.Choice(["auto", "classification", "regression"]),
        default="auto",
        show_default=True,
        help="For a CSV target: class labels or numbers (auto decides from the values).",
    )(f)
    return click.option(
        "--target",
        "target",
        metavar="COLUMN",
        default=None,
        help="The CSV column to predict.",
    )(f)


@app.command(name="train")
@click.option(
    "--data",
    "data_name",
    required=True,
    metavar="NAME|FILE.csv",
    help=f"A data set ({', '.join(datasets.DATASETS)}) or a CSV file with a header row.",
)
@_data_options
@click.option(
    "--layers",
    metavar="64,30,10",
    default=None,
    help="Every width from inputs to outputs. Default: inputs,30,outputs.",
)
@click.option(
    "--activation", type=click.Choice(list(ACTIVATIONS)), default="sigmoid", show_default=True
)
@click.option(
    "--output-activation",
    type=click.Choice(list(ACTIVATIONS)),
    default=None,
    help="Default: sigmoid, softmax with cross-entropy, identity for numbers.",
)
@click.option("--loss", type=click.Choice(list(LOSSES)), default="half_sse", show_default=True)
@click.option("--optimizer", type=click.Choice(list(OPTIMIZERS)), default="sgd", show_default=True)
@click.option(
    "--lr",
    type=float,
    default=None,
    metavar="η",
    help="Learning rate. Default: "
    + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items())
    + "; with an unbounded output (numbers): "
    + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR_UNBOUNDED.items())
    + ".",
)
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Samples per gradient step.",
)
@click.option("--epochs", type=click.IntRange(1, MAX_EPOCHS), default=30, show_default=True)
@click.option(
    "--l2",
    type=float,
    default=0.0,
    show_default=True,
    metavar="λ",
    help="L2 penalty (λ/2)ΣW² on the weights.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seeds the data, the split, the weights and the shuffling.",
)
@click.option(
    "--test-split",
    type=click.FloatRange(0.0, 1.0, max_open=True),
    default=0.2,
    show_default=True,
    help="Fraction held out to test on (0: none).",
)
@click.option("--dtype", type=click.Choice(list(DTYPES)), default="float64", show_default=True)
@click.option(
    "--standardise/--no-standardise",
    default=True,
    show_default=True,
    help="Scale each feature, and a numeric target, to mean 0, deviation 1 (folded into "
    "the saved model).",
)
@click.option(
    "--features",
    "feature_names",
    metavar="x1,x2,x1x2,…",
    default=None,
    help="Input features of 2-D data, from: " + ", ".join(features.FEATURES) + ".",
)
@click.option("--samples", type=int, default=None, help="Samples of a synthetic data set.")
@click.option("--noise", type=float, default=None, help="Noise level of a synthetic data set.")
@click.option("--out", metavar="FILE", default=None, help="Save the trained model here.")
@click.option(
    "--numpy-script",
    "script_path",
    metavar="OUT.py",
    default=None,
    help="Also write a NumPy script that trains the same way (data, seed, settings).",
)
@click.option(
    "--torch-script",
    "torch_script_path",
    metavar="OUT.py",
    default=None,
    help="Also write a PyTorch script that trains the same way.",
)
@click.option(
    "--plot",
    metavar="FILE.png",
    default=None,
    help="Save loss and accuracy curves (and 2-D decision regions).",
)
@json_option
def train_command(
    data_name, target, task, layers, activation, output_activation, loss, optimizer, lr, batch,
    epochs, l2, seed, test_split, dtype, standardise, feature_names, samples, noise, out,
    script_path, torch_script_path, plot, as_json,
):  # fmt: skip
    """Train a network on a data set, epoch by epoch, and show how well it does."""
    # a file that cannot be written is refused now, not after the training it would hold
    if out:
        check_writable(out, "the model file")
    if plot:
        check_writable(plot, "the plot", PLOT_SUFFIXES)
    scripts = {p: k for p, k in ((script_path, "numpy"), (torch_script_path, "torch")) if p}
    for path in scripts:
        check_writable(path, "the script", (".py",))
    ds = raw = _load_data(data_name, target, task, samples, noise, seed)
    if scripts:
        from byhand.export.script import check_training_run

        check_training_run(ds, dtype)
    chosen = None if feature_names is None else features.parse(feature_names)
    if chosen is not None:
        ds = features.expand_dataset(ds, chosen)
    run = _build(
        ds, target, layers, activation, output_activation, loss, optimizer, lr, batch, l2,
        seed, test_split, dtype, standardise,
    )  # fmt: skip
    run.features = chosen
    # a live progress bar (rich) only for a person at a terminal; a pipe gets the report alone
    _train(run, epochs, show=sys.stdout.isatty() and not as_json)
    if scripts and not run.stopped:
        _write_scripts(scripts, raw, run, epochs, test_split, standardise)
    _report(run, out, plot, as_json)
    if run.stopped:
        raise click.exceptions.Exit(INTERRUPTED)


@dataclass
class _Run:
    """One `byhand train`: the data, its prepared parts, the network and its trainer; then
    the history, why it stopped early (if it did) and the seconds training took."""

    ds: datasets.Dataset
    prepared: datasets.Prepared
    sizes: list[int]
    net: Network
    trainer: Trainer
    history: list[dict] = field(default_factory=list)
    stopped: str | None = None
    seconds: float = 0.0
    #: the input features chosen with --features (None: the data's own)
    features: list[str] | None = None


def _build(
    ds, target, layers, activation, output_activation, loss, optimizer, lr, batch, l2, seed,
    test_split, dtype, standardise,
) -> _Run:  # fmt: skip
    """The network `byhand train` trains, and its trainer on the prepared data."""
    output_activation = _output_activation(output_activation, loss, ds)
    # numbers to predict with an identity output are scaled like the features, and unscaled in
    # the saved model and in every loss shown
    scale_target = standardise and ds.class_names is None and output_activation == "identity"
    prepared = datasets.prepare(
        ds, test_split, seed, standardise=standardise, scale_target=scale_target
    )
    sizes = _layers(layers, ds)
    _check_size(sizes)
    net = Network.create(
        sizes,
        activation=activation,
        output_activation=output_activation,
        loss=loss,
        init="xavier",
        seed=seed,
        dtype=dtype,
        input_names=ds.feature_names,
        output_names=ds.class_names or [target or "y"] * ds.n_outputs,
    )
    trainer = Trainer(
        net, prepared.train, prepared.test, optimizer=optimizer, lr=lr, batch=batch, l2=l2,
        seed=seed,
    )  # fmt: skip
    return _Run(ds, prepared, sizes, net, trainer)


def _write_scripts(
    scripts: dict[str, str], raw: datasets.Dataset, run: _Run, epochs: int, test_split: float,
    standardise: bool,
) -> None:  # fmt: skip
    """Write each asked-for script (path → "numpy" or "torch") that trains as this run did."""
    from byhand.export.script import TRAINING_SCRIPTS

    for path, kind in scripts.items():
        text = TRAINING_SCRIPTS[kind](
            raw, run.trainer, epochs=epochs, test_split=test_split, standardise=standardise,
            feature_names=run.features,
        )  # fmt: skip
        modelfile.atomic_write(path, text.encode())


def _train(run: _Run, epochs: int, show: bool) -> None:
    """Train `epochs` epochs, with a progress bar when `show`; Ctrl-C keeps the last epoch.

    BLAS runs on one thread: a step's products are too small to share out, and OpenBLAS's
    threads spin-wait for one another, which on a busy machine made digits' 30 epochs take
    4.1 s instead of 0.7 s (the evaluation's larger products are the ones it threads).
    """
    from threadpoolctl import threadpool_limits

    started = time.perf_counter()
    try:
        with threadpool_limits(1, user_api="blas"):
            if show:
                _train_with_progress(run, epochs)
            else:
                for _ in range(epochs):
                    run.history.append(run.prepared.in_target_units(run.trainer.epoch()))
    except KeyboardInterrupt:
        run.trainer.restore()
        if not run.history:
            message = "stopped by Ctrl-C before the first epoch ended; no model saved"
            raise click.exceptions.Exit(fail(message, INTERRUPTED)) from None
        epoch = len(run.history)
        run.stopped = f"stopped by Ctrl-C after epoch {epoch}; the model is that epoch's"
    run.seconds = time.perf_counter() - started


def _train_with_progress(run: _Run, epochs: int) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from byhand.cli.common import console  # made on first use: rich is imported here

    progress = Progress(
        TextColumn("[bold]epoch"),
        MofNCompleteColumn(),
        BarColumn(),
        TextColumn("{task.fields[metrics]}"),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        bar = progress.add_task("train", total=epochs, metrics="")
        for _ in range(epochs):
            record = run.prepared.in_target_units(run.trainer.epoch())
            run.history.append(record)
            progress.update(bar, advance=1, metrics=_metrics(record))


def _report(run: _Run, out: str | None, plot: str | None, as_json: bool) -> None:
    """Save the model and the plot if asked, then show the results as tables or JSON."""
    ds, net, history = run.ds, run.net, run.history
    train_set, test_set = run.prepared.train, run.prepared.test
    trained = features.attach(run.prepared.raw_model(net), run.features)
    if out:
        modelfile.save(trained, out)
    if plot:
        from byhand.plots import save_training_plot

        save_training_plot(plot, history, trained, ds)

    last = history[-1]
    shown = test_set if test_set is not None else train_set
    matrix = None
    if ds.is_classification:
        matrix = confusion_matrix(net, shown.X, shown.labels, ds.n_outputs)
    if as_json:
        result = {
            "history": history,
            "train_loss": last["train_loss"],
            "train_accuracy": last["train_accuracy"],
            "test_loss": last["test_loss"],
            "test_accuracy": last["test_accuracy"],
            "seconds": run.seconds,
            "epochs": len(history),
            "layers": run.sizes,
            "confusion_matrix": None if matrix is None else matrix.tolist(),
            "classes": ds.class_names,
        }
        if run.stopped:
            result["stopped"] = run.stopped
        print_json(result)
        return
    # plain text, as rich prints into a pipe (byhand.cli.tables), without importing rich
    acts = f"{net.layers[0].activation.name}/{net.layers[-1].activation.name}"
    click.echo(
        f"{ds.name}: {'-'.join(map(str, run.sizes))} {acts}, {net.loss.name}, "
        f"{run.trainer.optimizer!r}, batch {run.trainer.batch}"
    )
    header = ["", "loss", *(["accuracy"] if ds.is_classification else []), "samples"]
    rows = [("train", last["train_loss"], last["train_accuracy"], len(train_set))]
    if test_set is not None:
        rows.append(("test", last["test_loss"], last["test_accuracy"], len(test_set)))
    cells = []
    for name, loss_value, acc, count in rows:
        accuracy = [_percent(acc)] if ds.is_classification else []
        cells.append([name, _loss(loss_value), *accuracy, str(count)])
    click.echo(_untitled(header, cells), nl=False)
    per_second = len(history) * len(train_set) / max(run.seconds, 1e-9)
    click.echo(
        f"{plural(len(history), 'epoch')} in {run.seconds:.2f} s ({per_second:,.0f} samples/s)"
    )
    if matrix is not None and ds.n_outputs <= MAX_MATRIX_CLASSES:
        which = "test set" if test_set is not None else "training set"
        title = f"confusion matrix ({which})"
        click.echo(_confusion_table(matrix, ds.class_names or [], title), nl=False)
    if run.stopped:
        click.echo(run.stopped)
    if out:
        click.echo(f"model saved to {out}")
    if plot:
        click.echo(f"plot saved to {plot}")


def _model_data(net: Network, name: str, target: str | None, task: str) -> datasets.Dataset:
    """A data set for `net`: a named set or a CSV file, its classes put in the model's order."""
    return _for_model(net, datasets.load_any(name, target, task=task))


def _for_model(net: Network, ds: datasets.Dataset) -> datasets.Dataset:
    """`ds` checked against `net`'s inputs and outputs, its classes put in the model's order."""
    if features.of(net) is not None:
        ds = features.expand_dataset(ds, features.of(net), "the model's features")
    if ds.n_features != net.sizes[0]:
        raise ByhandError(
            f"the model takes {net.sizes[0]} inputs but {ds.name} has {ds.n_features} features"
        )
    if ds.n_outputs != net.sizes[-1] and not (ds.class_names and net.output_names):
        raise ByhandError(
            f"the model has {net.sizes[-1]} outputs but {ds.name} has {ds.n_outputs} targets"
        )
    if ds.class_names and net.output_names and ds.class_names != net.output_names:
        unknown = [c for c in ds.class_names if c not in net.output_names]
        if unknown:
            raise ByhandError(
                f"{ds.name} has the class {unknown[0]!r}, which the model does not know "
                f"(its outputs: {', '.join(net.output_names)})"
            )
        order = np.array([net.output_names.index(c) for c in ds.class_names])
        labels = order[ds.labels]
        ds = datasets.Dataset(
            ds.name,
            ds.description,
            ds.X,
            datasets.one_hot(labels, net.sizes[-1]),
            ds.feature_names,
            list(net.output_names),
            labels,
        )
    return ds


@app.command(name="predict")
@click.option("--model", "-m", "model", metavar="FILE", required=True, help="A trained model file.")
@click.option(
    "--inputs",
    "-x",
    "inputs",
    metavar="X1,X2,…",
    default=None,
    help="Input values, comma-separated (';' between samples).",
)
@click.option(
    "--data",
    "data_name",
    metavar="NAME|FILE.csv",
    default=None,
    help="Predict every row of a data set or CSV file.",
)
@json_option
def predict_command(model, inputs, data_name, as_json):
    """Give a trained model's outputs and predicted class for new inputs."""
    net = modelfile.load(model)
    if (inputs is None) == (data_name is None):
        raise click.UsageError("give either --inputs or --data")
    names = features.of(net)
    if inputs is not None:
        X, _ = net.check_inputs(features.raw_inputs(net, parse_numbers(inputs, "inputs")))
    elif data_name in datasets.DATASETS:
        X = _model_data(net, data_name, None, "auto").X
    elif names is not None:
        X = features.expand(datasets.read_features(data_name, list(features.RAW), 2)[0], names)
    else:
        X, _ = datasets.read_features(data_name, net.input_names, net.sizes[0])
    o, _ = predict_in_chunks(net, X)
    names = net.output_names or [f"o{k + 1}" for k in range(o.shape[1])]
    classify = o.shape[1] > 1 and net.loss.name != "mse" and len(set(names)) == len(names)
    predicted = [names[k] for k in np.argmax(o, axis=1)] if classify else None
    if as_json:
        print_json({"outputs": o.tolist(), "predicted": predicted, "output_names": names})
        return
    from rich.table import Table

    from byhand.cli.common import console  # made on first use: rich is imported here

    t = Table()
    t.add_column("sample", justify="right")
    for name in names:
        t.add_column(name, justify="right")
    if predicted:
        t.add_column("predicted")
    for n, row in enumerate(o):
        cells = [str(n + 1), *(_loss(v) for v in row)]
        if predicted:
            cells.append(predicted[n])
        t.add_row(*cells)
    console.print(t)


@app.command(name="evaluate")
@click.option("--model", "-m", "model", metavar="FILE", required=True, help="A trained model file.")
@click.option(
    "--data",
    "data_name",
    metavar="NAME|FILE.csv",
    required=True,
    help="A data set or a CSV file with the target column.",
)
@_data_options
@click.option(
    "--part",
    type=click.Choice(["all", "test", "train"]),
    default="all",
    show_default=True,
    help="All samples, or the part `byhand train` held out (test) or trained on (train) "
    "with the same --seed and --test-split.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="The seed byhand train was given."
)
@click.option(
    "--test-split",
    type=click.FloatRange(0.0, 1.0, max_open=True),
    default=0.2,
    show_default=True,
    help="The test fraction byhand train was given (with --part).",
)
@json_option
def evaluate_command(model, data_name, target, task, part, seed, test_split, as_json):
    """Measure a trained model's loss and accuracy on a data set, with its confusion matrix.

    By default every sample counts, including those the model was trained on; --part test
    measures only the samples `byhand train` held out.
    """
    net = modelfile.load(model)
    ds = _load_data(data_name, target, task, None, None, seed)
    if part != "all":
        if not 0 < test_split < 1:
            raise ByhandError(f"--test-split must be between 0 and 1 with --part, not {test_split}")
        train_part, test_part = ds.split(test_split, seed)
        ds = test_part if part == "test" else train_part
    ds = _for_model(net, ds)
    loss, acc = evaluate(net, ds.X, ds.Y, ds.labels)
    matrix = (
        confusion_matrix(net, ds.X, ds.labels, net.sizes[-1]) if ds.labels is not None else None
    )
    if as_json:
        print_json(
            {
                "loss": loss,
                "accuracy": acc,
                "samples": len(ds),
                "part": part,
                "confusion_matrix": None if matrix is None else matrix.tolist(),
                "classes": ds.class_names,
            }
        )
        return
    which = {"all": "all", "test": "held-out", "train": "training"}[part]
    line = f"{ds.name}: {len(ds)} samples ({which}), loss {_loss(loss)} ({net.loss.name})"
    if acc is not None:
        line += f", accuracy {_percent(acc)}"
    click.echo(line)
    if matrix is not None and len(matrix) <= MAX_MATRIX_CLASSES:
        click.echo(_confusion_table(matrix, ds.class_names or [], "confusion matrix"), nl=False)
