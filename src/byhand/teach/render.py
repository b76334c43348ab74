"""Worked solutions, exercises and answer keys as plain text, Markdown, LaTeX or HTML.

A document is first built as a few kinds of blocks (headings, paragraphs with inline math,
equations, blanks to fill in); each format then writes the same blocks its own way. Formulas
are LaTeX throughout: Markdown keeps them between dollars, the LaTeX document typesets them,
and HTML shows them as MathML through `byhand.mathml.to_mathml`, as the web page does.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import PurePath

from byhand import notation, numbers
from byhand.errors import unknown
from byhand.mathml import to_mathml
from byhand.teach.solution import SECTIONS, Solution, Step, slot
from byhand.teach.worksheet import Worksheet

FORMATS = ("text", "md", "tex", "html")
SECTION_TITLES = {
    "forward": "Forward pass",
    "loss": "Loss",
    "gradients": "Gradients by backpropagation",
    "update": "Gradient-descent update",
}


# --- blocks ---------------------------------------------------------------------------------


@dataclass
class Math:
    """Inline math: LaTeX and the same in plain text."""

    tex: str
    text: str


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Para:
    parts: list[str | Math]


@dataclass
class Equation:
    """lhs = rhs₁ = rhs₂ …; LaTeX puts each group after the first on a line of its own."""

    tex: list[str]
    text: list[str]


@dataclass
class Note:
    """A remark under an equation: the chain rule behind a gradient."""

    label: str
    math: Math


@dataclass
class Blank:
    """A quantity to fill in: its symbol, and its name in the answers file."""

    tex: str
    name: str


@dataclass
class Raw:
    """Markup only one format shows (the network's SVG drawing in HTML)."""

    fmt: str
    body: str


@dataclass
class Document:
    title: str
    blocks: list = field(default_factory=list)


# --- writing a document in each format -------------------------------------------------------

_TEX_TEXT = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "σ": r"$\sigma$",
    "η": r"$\eta$",
    "δ": r"$\delta$",
    "∂": r"$\partial$",
    "−": "-",
    "·": r"$\cdot$",
    "½": r"$\frac{1}{2}$",
    "²": r"$^2$",
    "Σ": r"$\Sigma$",
    "…": r"\dots{}",
    "—": "---",
    "–": "--",
    "→": r"$\to$",
    "≈": r"$\approx$",
}


def tex_text(text: str) -> str:
    """Plain text made safe for LaTeX: special characters escaped, Greek letters as math."""
    return "".join(_TEX_TEXT.get(ch, ch) for ch in text)


def _md_text(text: str) -> str:
    return text.replace("*", r"\*").replace("`", r"\`")


def write(doc: Document, fmt: str) -> str:
    """The document as text, md, tex or html."""
    if fmt not in FORMATS:
        raise unknown("format", fmt, FORMATS)
    return {"text": _text, "md": _markdown, "tex": _latex, "html": _html}[fmt](doc)


def _text(doc: Document) -> str:
    lines = [doc.title, "=" * len(doc.title), ""]
    for block in doc.blocks:
        if isinstance(block, (Heading, Para)) and lines[-1] != "":
            lines.append("")
        if isinstance(block, Heading):
            lines += [block.text, ("=" if block.level <= 2 else "-") * len(block.text)]
        elif isinstance(block, Para):
            lines += ["".join(p if isinstance(p, str) else p.text for p in block.parts), ""]
        elif isinstance(block, Equation):
            lines.append("  " + " = ".join(block.text))
        elif isinstance(block, Note):
            lines.append(f"      {block.label}: {block.math.text}")
        elif isinstance(block, Blank):
            lines.append(f"  {block.name} = ______________")
        if isinstance(block, Heading):
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _markdown(doc: Document) -> str:
    out = [f"# {_md_text(doc.title)}", ""]
    for block in doc.blocks:
        if isinstance(block, Heading):
            out += [f"{'#' * block.level} {_md_text(block.text)}", ""]
        elif isinstance(block, Para):
            out += [
                "".join(_md_text(p) if isinstance(p, str) else f"${p.tex}$" for p in block.parts),
                "",
            ]
        elif isinstance(block, Equation):
            out += [f"$$ {' = '.join(block.tex)} $$", ""]
        elif isinstance(block, Note):
            out += [f"*{_md_text(block.label)}:* ${block.math.tex}$", ""]
        elif isinstance(block, Blank):
            out.append(f"- ${block.tex}$ (`{block.name}`) = ______________")
            continue
        if out and out[-1] != "" and not isinstance(block, Blank):
            out.append("")
    text = "\n".join(out)
    # a list of blanks ends with one empty line
    return text.replace("______________\n#", "______________\n\n#").rstrip() + "\n"


def _latex(doc: Document) -> str:
    out = [
        r"\documentclass[11pt]{article}",
        r"\usepackage[a4paper,margin=2cm]{geometry}",
        r"\usepackage{amsmath,amssymb}",
        r"\allowdisplaybreaks",
        r"\setlength{\parindent}{0pt}",
        r"\setlength{\parskip}{0.6em}",
        rf"\title{{{tex_text(doc.title)}}}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
    ]
    in_list = False
    for block in doc.blocks:
        if in_list and not isinstance(block, Blank):
            out.append(r"\end{enumerate}")
            in_list = False
        if isinstance(block, Heading):
            command = {1: "section", 2: "section", 3: "subsection"}.get(
                block.level, "subsubsection"
            )
            out.append(rf"\{command}*{{{tex_text(block.text)}}}")
        elif isinstance(block, Para):
            out.append(
                "".join(tex_text(p) if isinstance(p, str) else f"${p.tex}$" for p in block.parts)
            )
            out.append("")
        elif isinstance(block, Equation):
            first, *rest = block.tex
            if not rest:
                out.append(rf"\[ {first} \]")
                continue
            lines = [f"{first} &= {rest[0]}"] + [f"&= {r}" for r in rest[1:]]
            out.append(r"\begin{align*}" + " \\\\\n".join(lines) + r"\end{align*}")
        elif isinstance(block, Note):
            out.append(rf"{{\small {tex_text(block.label)}: ${block.math.tex}$}}")
            out.append("")
        elif isinstance(block, Blank):
            if not in_list:
                out.append(r"\begin{enumerate}")
                in_list = True
            out.append(
                rf"\item ${block.tex} = $ \rule{{4cm}}{{0.4pt}} \quad "
                rf"(\texttt{{{tex_text(block.name)}}})"
            )
    if in_list:
        out.append(r"\end{enumerate}")
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"


_HTML_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 50rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #1b1b1b; }
math[display="block"] { margin: 0.4rem 0; overflow-x: auto; overflow-y: hidden; }
ol.blanks li { margin: 0.5rem 0; }
.blank { display: inline-block; min-width: 9rem; border-bottom: 1px solid #444; }
p.note { margin: 0 0 0.6rem 2rem; font-size: 0.9rem; color: #444; }
code { background: #f3f3f3; padding: 0 0.2rem; }
svg { max-width: 100%; height: auto; }
@media print { body { margin: 0; } }
"""


def _html(doc: Document) -> str:
    out = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{escape(doc.title)}</title>",
        f"<style>{_HTML_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(doc.title)}</h1>",
    ]
    in_list = False
    for block in doc.blocks:
        if in_list and not isinstance(block, Blank):
            out.append("</ol>")
            in_list = False
        if isinstance(block, Heading):
            level = min(block.level, 6)
            out.append(f"<h{level}>{escape(block.text)}</h{level}>")
        elif isinstance(block, Para):
            body = "".join(
                escape(p) if isinstance(p, str) else to_mathml(p.tex, display=False)
                for p in block.parts
            )
            out.append(f"<p>{body}</p>")
        elif isinstance(block, Equation):
            out.append(to_mathml(" = ".join(block.tex)))
        elif isinstance(block, Note):
            out.append(
                f'<p class="note">{escape(block.label)}: '
                f"{to_mathml(block.math.tex, display=False)}</p>"
            )
        elif isinstance(block, Blank):
            if not in_list:
                out.append('<ol class="blanks">')
                in_list = True
            out.append(
                f"<li>{to_mathml(block.tex, display=False)} (<code>{escape(block.name)}</code>) "
                '= <span class="blank"></span></li>'
            )
        elif isinstance(block, Raw) and block.fmt == "html":
            out.append(block.body)
    if in_list:
        out.append("</ol>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


# --- worked solutions ---------------------------------------------------------------------------


def step_equation(step: Step, env, digits: int = 4) -> Equation:
    """name = formula = the numbers put in = value."""
    value = numbers.text(step.value, digits)
    tex, text = [step.tex, step.formula_tex], [step.text, step.formula]
    if step.template != slot(0):
        tex.append(step.numbers(env, digits, tex=True))
        text.append(step.numbers(env, digits))
    tex.append(numbers.tex(step.value, digits))
    text.append(value)
    return Equation(tex, text)


def solution_blocks(
    solution: Solution, digits: int = 4, sections: Sequence[str] = SECTIONS, level: int = 2
) -> list:
    """Each section's heading and the equations of its steps (the chain rule for gradients)."""
    env = solution.values
    blocks: list = []
    for section in sections:
        steps = solution.section(section)
        if not steps:
            continue
        title = SECTION_TITLES[section]
        if section == "update":
            title += f" (η = {numbers.text(env['η'], digits)})"
        blocks.append(Heading(level, title))
        for step in steps:
            blocks.append(step_equation(step, env, digits))
            if step.chain_tex:
                blocks.append(Note("by the chain rule", Math(step.chain_tex, step.chain or "")))
    return blocks


def network_words(net) -> str:
    sizes = net.sizes
    hidden = sizes[1:-1]
    parts = [f"{sizes[0]} input{'s' if sizes[0] != 1 else ''}"]
    if hidden:
        layers = ", ".join(str(n) for n in hidden)
        parts.append(
            f"{'a hidden layer' if len(hidden) == 1 else 'hidden layers'} of {layers} "
            f"neuron{'s' if hidden != [1] else ''}"
        )
    parts.append(f"{sizes[-1]} output{'s' if sizes[-1] != 1 else ''}")
    acts = sorted({layer.activation.name for layer in net.layers})
    return f"{', '.join(parts)}; activation {' / '.join(acts)}; loss {net.loss.name}"


def given_blocks(solution: Solution, digits: int = 4) -> list:
    """The numbers an exercise starts from: inputs, target, each neuron's weights, η."""
    net = solution.net
    sizes = net.sizes
    g = {x.name: x for x in solution.givens}

    def listing(names: Sequence[str]) -> Equation:
        tex = r",\quad ".join(f"{g[n].tex} = {numbers.tex(g[n].value, digits)}" for n in names)
        text = ",  ".join(f"{n} = {numbers.text(g[n].value, digits)}" for n in names)
        return Equation([tex], [text])

    blocks: list = [Para([f"A network with {network_words(net)}."])]
    blocks.append(Para(["Inputs and target:"]))
    blocks.append(listing([notation.input_symbol(j).text for j in range(sizes[0])]))
    blocks.append(listing([notation.target_symbol(k).text for k in range(sizes[-1])]))
    blocks.append(Para(["Weights and biases, neuron by neuron:"]))
    for l in range(len(net.layers)):
        for i in range(sizes[l + 1]):
            names = [
                notation.lecture_name(notation.ParamRef("W", l, i, j), sizes)
                for j in range(sizes[l])
            ]
            names.append(notation.lecture_name(notation.ParamRef("b", l, i), sizes))
            blocks.append(listing(names))
    blocks.append(Para(["Learning rate:"]))
    blocks.append(listing(["η"]))
    return blocks


def solution_document(solution: Solution, title: str | None = None, digits: int = 7) -> Document:
    """The full worked solution of one training step."""
    doc = Document(title or "One training step, worked by hand")
    doc.blocks += given_blocks(solution, digits)
    doc.blocks += solution_blocks(solution, digits)
    return doc


def render_solution(solution: Solution, fmt: str = "text", digits: int = 7, title=None) -> str:
    return write(solution_document(solution, title, digits), fmt)


# --- worksheets -----------------------------------------------------------------------------------


def formula_blocks(sheet: Worksheet) -> list:
    # f, f' and L as the engine's notation table defines them
    act, loss = sheet.net.layers[0].activation, sheet.net.loss
    blocks: list = [Heading(2, "Formulas")]
    blocks.append(Equation([r"z_i = \sum_j w_{ij} a_j + b_i"], ["z_i = Σ_j w_ij·a_j + b_i"]))
    blocks.append(Equation([r"a_i = f(z_i)"], ["a_i = f(z_i)"]))
    for form in (act.definition, act.prime_definition, loss.definition):
        blocks.append(Equation([form.tex], [form.text]))
    blocks.append(
        Equation([r"\delta_{o_k} = (o_k - y_k)\, f'(z_{o_k})"], ["δ_o = (o − y)·f'(z_o)"])
    )
    blocks.append(
        Equation(
            [r"\delta_{h_i} = \Big(\sum_k \delta_k w_{ki}\Big) f'(z_{h_i})"],
            ["δ_h = (Σ δ_k·w_ki)·f'(z_h)"],
        )
    )
    blocks.append(
        Equation(
            [
                r"\frac{\partial L}{\partial w_{ij}} = \delta_i a_j,\quad "
                r"\frac{\partial L}{\partial b_i} = \delta_i"
            ],
            ["∂L/∂w_ij = δ_i·a_j,  ∂L/∂b_i = δ_i"],
        )
    )
    blocks.append(
        Equation(
            [r"w^{\mathrm{new}} = w - \eta \frac{\partial L}{\partial w}"],
            ["w_new = w − η·∂L/∂w"],
        )
    )
    return blocks


def check_command(sheet: Worksheet, folder: str | PurePath = ".") -> str:
    """The `byhand check` line for a sheet written to `folder`, to run where `folder` is named
    from (its files' paths are `folder`'s, not bare names, unless it is the current one)."""
    base = PurePath(folder)
    files = [base / f"{sheet.name}.json", base / f"{sheet.name}-answers.yaml"]
    return "byhand check " + " ".join(shlex.quote(str(f)) for f in files)


def exercise_document(sheet: Worksheet, folder: str | PurePath = ".") -> Document:
    """The exercise: the numbers given, the formulas, and a blank for every quantity asked.

    `folder` is where the sheet's files are written, as the command that wrote them named it:
    the `byhand check` line in the document runs from where that command ran."""
    solution = sheet.solution
    doc = Document(f"Worksheet {sheet.seed}: one training step by hand")
    doc.blocks.append(Heading(2, "Given"))
    doc.blocks += given_blocks(solution, 4)
    from byhand.diagram import network_svg

    doc.blocks.append(Raw("html", network_svg(sheet.net)))
    doc.blocks += formula_blocks(sheet)
    doc.blocks.append(Heading(2, "Questions"))
    doc.blocks.append(
        Para(
            [
                f"Give each answer to {numbers.PRECISION}, and keep more digits in your "
                "working. Put your answers in ",
                f"{sheet.name}-answers.yaml and check them with: {check_command(sheet, folder)}",
            ]
        )
    )
    for section in sheet.questions:
        doc.blocks.append(Heading(3, SECTION_TITLES[section]))
        for step in solution.section(section):
            doc.blocks.append(Blank(step.tex, step.name))
    return doc


def key_document(sheet: Worksheet) -> Document:
    """The answer key: the worked solution up to the last section asked."""
    last = max(SECTIONS.index(q) for q in sheet.questions)
    doc = Document(f"Worksheet {sheet.seed}: answer key")
    doc.blocks.append(Heading(2, "Given"))
    doc.blocks += given_blocks(sheet.solution, 4)
    doc.blocks += solution_blocks(sheet.solution, 4, SECTIONS[: last + 1])
    return doc


def answers_template(sheet: Worksheet, folder: str | PurePath = ".") -> str:
    """A YAML file with every asked name and no number yet, for the student to fill in; its
    `byhand check` line names the files in `folder` (see `exercise_document`)."""
    lines = [
        f"# Answers to worksheet {sheet.seed}: write a number after each name, e.g. h1: 0.9526",
        f"# then run: {check_command(sheet, folder)}",
    ]
    lines += [f"{name}:" for name in sheet.asked]
    return "\n".join(lines) + "\n"
