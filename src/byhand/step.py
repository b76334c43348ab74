"""The training step: the lecture's forward pass, backpropagation and update of one mini-batch,
written into arrays made once.

Network.forward and Network.backward are the lecture's passes, written to be read and checked;
a training step does the same arithmetic, arranged so that nothing is allocated and as few
calls as possible go over the arrays:

    forward    z⁽ˡ⁾ = a⁽ˡ⁻¹⁾W⁽ˡ⁾ᵀ + b⁽ˡ⁾,  a⁽ˡ⁾ = f(z⁽ˡ⁾)        into the Workspace's z and a
    backward   δ⁽ᴸ⁾ = ∂L/∂o ⊙ f'(z⁽ᴸ⁾),  δ⁽ˡ⁾ = (δ⁽ˡ⁺¹⁾W⁽ˡ⁺¹⁾) ⊙ f'(z⁽ˡ⁾)   into its δ
    update     W⁽ˡ⁾ ← βW⁽ˡ⁾ − c δ⁽ˡ⁾ᵀa⁽ˡ⁻¹⁾,  b⁽ˡ⁾ ← b⁽ˡ⁾ − c 1ᵀδ⁽ˡ⁾

The forward product is one gemm per layer: z is filled with b row by row, then gemm with
β = 1 adds a⁽ˡ⁻¹⁾W⁽ˡ⁾ᵀ to it.

For sgd on batches of up to FUSED_ROWS rows, c = η/N and β = 1 − ηλ (λ the L2 strength; β = 1
without it), and the update is one BLAS call per array: gemm with beta = β writes c δᵀa
straight into W, so the gradient is never formed. δ⁽ˡ⁾W⁽ˡ⁾ (the next δ down) is taken before
W⁽ˡ⁾ changes. The δ stay the lecture's δ: the factor c rides in the BLAS calls' α.

Otherwise (momentum, adam, or sgd on larger batches, where NumPy's matmul is the faster
product) the gradients are formed from the scaled δ, cδ with c = scale/N and the optimiser's
`scale` (η for sgd and momentum, 1 for adam): g = (cδ)ᵀa, into one array laid out as θ
(Network.pack), which the optimiser turns into its update of θ (sgd: θ ← θ − g, one call).

The layout gemm needs: W is a C-ordered (neurons, inputs) array, so W.T is the same memory in
Fortran order, which is what BLAS writes into without a copy; z, a⁽ˡ⁻¹⁾ and δ⁽ˡ⁾ (C-ordered,
samples × width) are passed as their transposes for the same reason.

A step at batch 10 is some twenty calls of about a microsecond each, so the Python between
them counts too: the arrays and transposed views each call takes are listed once per
workspace (a Plan), and the step only walks the lists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from byhand.errors import ByhandError
from byhand.network import Network, views
from byhand.scipy_parts import fortran_blas

Array = np.ndarray

#: the BLAS routines' letter for each dtype the step trains in
BLAS_PREFIX = {np.float32: "s", np.float64: "d"}


def blas(dtype: np.dtype) -> tuple:
    """(gemm, gemv) for float32 (sgemm, sgemv) or float64 (dgemm, dgemv).

    SciPy's Fortran wrappers, called with positional arguments: f2py parses keywords at
    about 0.7 µs a call (sgemv at batch 10: 1.12 µs with keywords, 0.45 µs without), and a
    batch-10 step makes six such calls. Their order:

        gemm(α, A, B, β, C, trans_a, trans_b, overwrite_c)        C ← α op(A) op(B) + β C
        gemv(α, A, x, β, y, offx, incx, offy, incy, trans, overwrite_y)     y ← α A x + β y

    C and y are written in place when they are Fortran-ordered arrays of the dtype (the
    Workspace's and the network's arrays are made so); A, B and x may be any layout.
    """
    prefix = BLAS_PREFIX.get(np.dtype(dtype).type)
    if prefix is None:
        raise ByhandError(f"training needs float32 or float64 parameters, not {dtype}")
    fblas = fortran_blas()
    return getattr(fblas, f"{prefix}gemm"), getattr(fblas, f"{prefix}gemv")


def numpy_gemm(alpha, a, b, beta, c, trans_a=0, trans_b=0, overwrite_c=1) -> Array:
    """C ← α op(A) op(B) + β C in NumPy, for the dtypes BLAS has not (float16, …)."""
    product = (a.T if trans_a else a) @ (b.T if trans_b else b)
    c[...] = alpha * product + beta * c
    return c


class Workspace:
    """The arrays one training step (or an evaluation) writes into, made once for a number of
    rows and reused.

    x, y: the mini-batch (gathered into them with np.take); zs, activations, deltas: z⁽ˡ⁾, a⁽ˡ⁾
    and δ⁽ˡ⁾ (rows × neurons), activations[0] being x; scratch: f'(z⁽ˡ⁾) on the way; ones: a 1
    per row, to sum δ over the batch as 1ᵀδ; grad: every gradient in one array laid out as
    Network.pack() lays out θ, and grad_W, grad_b its views shaped like the parameters (used by
    optimisers that need the gradient; sgd never fills them). Reusing them keeps a step free of
    allocation: fresh temporaries of a few hundred KB per step go through mmap and can halve
    the speed.
    """

    def __init__(self, net: Network, rows: int) -> None:
        self.rows = int(rows)
        dt = net.dtype
        widths = net.sizes

        def block(k: int) -> Array:
            return np.empty((self.rows, k), dtype=dt)

        self.x = block(widths[0])
        self.y = block(widths[-1])
        self.zs = [block(k) for k in widths[1:]]
        self.activations = [self.x] + [block(k) for k in widths[1:]]
        self.deltas = [block(k) for k in widths[1:]]
        self.scratch = [block(k) for k in widths[1:]]
        self.ones = np.ones(self.rows, dtype=dt)
        self.grad = np.zeros(net.n_parameters, dtype=dt)
        shaped = views(self.grad, net.parameters())
        self.grad_W, self.grad_b = shaped[0::2], shaped[1::2]
        #: the forward pass's product: SciPy's gemm for float32 and float64 (see blas)
        self.gemm = blas(dt)[0] if np.dtype(dt).type in BLAS_PREFIX else numpy_gemm

    @property
    def output(self) -> Array:
        return self.activations[-1]

    def __repr__(self) -> str:
        return f"Workspace(rows={self.rows})"


class Forward(NamedTuple):
    """What layer l's forward pass reads and writes: z = 1bᵀ, zᵀ += W aᵀ, a⁽ˡ⁾ = f(z)."""

    #: W⁽ˡ⁾ᵀ (W's Fortran view) and b⁽ˡ⁾
    W_T: Array
    b: Array
    #: z⁽ˡ⁾ and its transpose zᵀ, the Fortran view gemm writes into
    z: Array
    z_T: Array
    #: a⁽ˡ⁻¹⁾ᵀ, the layer's input transposed
    a_T: Array
    #: f, called as f(z, out=a), and a⁽ˡ⁾
    f: Callable[..., Array]
    a: Array


class Backward(NamedTuple):
    """What layer l's backward pass and update read and write, for a step over the layers from
    the last to the first: δ⁽ˡ⁻¹⁾ = (δ⁽ˡ⁾W⁽ˡ⁾) ⊙ f'(z⁽ˡ⁻¹⁾) and the update of W⁽ˡ⁾, b⁽ˡ⁾."""

    W: Array
    W_T: Array
    b: Array
    #: a⁽ˡ⁻¹⁾ and its transpose
    a: Array
    a_T: Array
    #: δ⁽ˡ⁾ and its transpose
    delta: Array
    delta_T: Array
    #: the gradients' views in the workspace (unfused updates) and room for cδ
    grad_W: Array
    grad_b: Array
    scaled_delta: Array
    #: for every layer but the first: δ⁽ˡ⁻¹⁾'s array, and the layer below's z, f' scratch and
    #: Activation.backward; None for the first layer
    delta_below: Array | None
    z_below: Array | None
    scratch_below: Array | None
    backward_below: Callable[..., Array] | None


class Plan(NamedTuple):
    """Everything one step on one workspace touches, listed once: the layers' Forward in order,
    their Backward from the last layer to the first, and what the output layer's δ needs."""

    forward: list[Forward]
    backward: list[Backward]
    #: the loss's delta (Loss.delta), the output layer's Activation, y, and δ⁽ᴸ⁾ with its scratch
    loss_delta: Callable[..., Array]
    output_activation: object
    y: Array
    delta: Array
    scratch: Array
    ones: Array


def forward_plan(net: Network, ws: Workspace, x: Array | None = None) -> list[Forward]:
    """The Forward of each layer for input rows `x` (default ws.x; at most ws.rows of them):
    the workspace's leading rows when there are fewer."""
    a = ws.x if x is None else x
    rows = len(a)
    plan = []
    for l, layer in enumerate(net.layers):
        z, out = ws.zs[l], ws.activations[l + 1]
        if rows != ws.rows:
            z, out = z[:rows], out[:rows]
        f = layer.activation.f_unguarded or layer.activation.f
        plan.append(Forward(layer.W.T, layer.b, z, z.T, a.T, f, out))
        a = out
    return plan


def run_forward(plan: list[Forward], gemm) -> Array:
    """z = 1bᵀ, then zᵀ ← W aᵀ + zᵀ (gemm, β = 1), then a = f(z), layer after layer; returns o.

    The bias rides in gemm's β: the broadcast copy z[...] = b takes 0.24 µs at 10 × 30 where
    z += b after the product takes 0.99 (NumPy's ufuncs pay for broadcasting, assignment does
    not); `python benchmarks/train_speed.py --layouts` compares this with np.dot then z += b
    and with every other order of the product.
    """
    a = None
    for W_T, b, z, z_T, a_T, f, a in plan:
        z[...] = b
        gemm(1.0, W_T, a_T, 1.0, z_T, 1, 0, 1)
        f(z, out=a)
    return a


def forward(net: Network, ws: Workspace, x: Array | None = None) -> Array:
    """z⁽ˡ⁾ = a⁽ˡ⁻¹⁾W⁽ˡ⁾ᵀ + b⁽ˡ⁾ and a⁽ˡ⁾ = f(z⁽ˡ⁾), into ws; returns o.

    a⁽⁰⁾ is ws.x, or `x`: rows of the network's dtype, at most ws.rows of them (an evaluation
    runs a data set through in chunks this way, without copying it into ws.x). The caller
    silences NumPy's floating-point warnings: the activations run unguarded, as entering
    NumPy's error state costs about a microsecond a call.
    """
    return run_forward(forward_plan(net, ws, x), ws.gemm)


def backward_plan(net: Network, ws: Workspace) -> list[Backward]:
    """The Backward of each layer, the last layer first."""
    layers = net.layers
    plan = []
    for l in reversed(range(len(layers))):
        layer, a, delta = layers[l], ws.activations[l], ws.deltas[l]
        below = (None,) * 4
        if l > 0:
            activation = layers[l - 1].activation
            below = (ws.deltas[l - 1], ws.zs[l - 1], ws.scratch[l - 1], activation.backward)
        plan.append(
            Backward(
                layer.W,
                layer.W.T,
                layer.b,
                a,
                a.T,
                delta,
                delta.T,
                ws.grad_W[l],
                ws.grad_b[l],
                ws.scratch[l],
                *below,
            )  # fmt: skip
        )
    return plan


#: the most rows a batch may have for sgd's update to be fused into W by gemm (beta = 1): above
#: it SciPy's gemm measured slower here than NumPy's matmul into the gradient plus one θ − g
#: (784-30-10 at batch 128: 90 µs against 74 µs; at batch 10 and 32 fused is faster)
FUSED_ROWS = 32


class TrainingStep:
    """One step of mini-batch gradient descent for `net` with `optimizer`, on a Workspace
    holding the batch in x and y: forward, backward and update, allocating nothing.

    Call bind() again when a layer's W or b has been replaced by another array.
    """

    def __init__(self, net: Network, optimizer) -> None:
        self.net = net
        self.optimizer = optimizer
        self.gemm, self.gemv = blas(net.dtype)
        self.bind()

    def bind(self) -> None:
        """Work on the network's parameters as they are now."""
        self.optimizer.bind(self.net)
        self._plans: dict[Workspace, Plan] = {}

    def plan(self, ws: Workspace) -> Plan:
        """The arrays a step on `ws` touches (made on the first step on it)."""
        plan = self._plans.get(ws)
        if plan is None:
            net = self.net
            plan = self._plans[ws] = Plan(
                forward_plan(net, ws), backward_plan(net, ws), net.loss.delta,
                net.layers[-1].activation, ws.y, ws.deltas[-1], ws.scratch[-1], ws.ones,
            )  # fmt: skip
        return plan

    def __call__(self, ws: Workspace) -> None:
        optimizer, gemm, gemv = self.optimizer, self.gemm, self.gemv
        forward, backward, loss_delta, output_activation, y, delta, scratch, ones = self._plans.get(
            ws
        ) or self.plan(ws)
        o = run_forward(forward, gemm)
        # δ⁽ᴸ⁾ = ∂L/∂o ⊙ f'(z⁽ᴸ⁾), into the output layer's δ (which the loop below reads)
        loss_delta(o, y, forward[-1].z, output_activation, out=delta, scratch=scratch)
        c = optimizer.scale / ws.rows
        fused = optimizer.fused and ws.rows <= FUSED_ROWS
        # sgd's weight decay: W − η(g + λW) = (1 − ηλ)W − ηg, the factor 1 − ηλ as gemm's beta
        beta = 1.0 - optimizer.lr * optimizer.l2
        for (W, W_T, b, a, a_T, delta, delta_T, grad_W, grad_b, scaled, back, z_below,
             scratch_below, backward_below) in backward:  # fmt: skip
            if back is not None:
                # δ⁽ˡ⁾W⁽ˡ⁾ with the weights as they were: taken before W⁽ˡ⁾ is updated
                np.dot(delta, W, out=back)
            if fused:
                # Wᵀ ← β Wᵀ − c a⁽ˡ⁻¹⁾ᵀδ: one gemm into W's own memory (its Fortran view)
                gemm(-c, a_T, delta_T, beta, W_T, 0, 1, 1)
                # b ← b − c δᵀ1: one gemv into b
                gemv(-c, delta_T, ones, 1.0, b, 0, 1, 0, 1, 0, 1)
            else:
                # the scaled δ, c·δ⁽ˡ⁾ (rows × neurons, the small side of the product), into
                # the layer's scratch (f'(z⁽ˡ⁾) there is used up), then g = (cδ)ᵀa and (cδ)ᵀ1
                np.multiply(delta, c, out=scaled)
                np.matmul(scaled.T, a, out=grad_W)
                np.dot(ones, scaled, out=grad_b)
            if back is not None:
                # δ⁽ˡ⁻¹⁾ = (δ⁽ˡ⁾W⁽ˡ⁾) ⊙ f'(z⁽ˡ⁻¹⁾), in place; the next pass of the loop reads it
                backward_below(z_below, a, back, out=back, scratch=scratch_below)
        if not fused:
            optimizer.apply(ws.grad_W, ws.grad)
