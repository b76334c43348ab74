"""The training step: the lecture's forward pass, backpropagation and update of one mini-batch,
written into arrays made once.

Network.forward and Network.backward are the lecture's passes, written to be read and checked;
a training step does the same arithmetic, arranged so that nothing is allocated and as few
passes as possible go over the arrays:

    forward    z⁽ˡ⁾ = a⁽ˡ⁻¹⁾W⁽ˡ⁾ᵀ + b⁽ˡ⁾,  a⁽ˡ⁾ = f(z⁽ˡ⁾)        into the Workspace's z and a
    backward   δ⁽ᴸ⁾ = ∂L/∂o ⊙ f'(z⁽ᴸ⁾),  δ⁽ˡ⁾ = (δ⁽ˡ⁺¹⁾W⁽ˡ⁺¹⁾) ⊙ f'(z⁽ˡ⁾)   into its δ
    update     W⁽ˡ⁾ ← βW⁽ˡ⁾ − c δ⁽ˡ⁾ᵀa⁽ˡ⁻¹⁾,  b⁽ˡ⁾ ← b⁽ˡ⁾ − c 1ᵀδ⁽ˡ⁾

For sgd on batches of up to FUSED_ROWS rows, c = η/N and β = 1 − ηλ (λ the L2 strength; β = 1
without it), and the update is one BLAS call per array: gemm with beta = β writes c δᵀa
straight into W, so the gradient is never formed. δ⁽ˡ⁾W⁽ˡ⁾ (the next δ down) is taken before
W⁽ˡ⁾ changes. The δ stay the lecture's δ: the factor c rides in the BLAS calls' α.

Otherwise (momentum, adam, or sgd on larger batches, where NumPy's matmul is the faster
product) the gradients are formed from the scaled δ, cδ with c = scale/N and the optimiser's
`scale` (η for sgd and momentum, 1 for adam): g = (cδ)ᵀa, into one array laid out as θ
(Network.pack), which the optimiser turns into its update of θ (sgd: θ ← θ − g, one call).

The layout gemm needs: W is a C-ordered (neurons, inputs) array, so W.T is the same memory in
Fortran order, which is what BLAS writes into without a copy; a⁽ˡ⁻¹⁾ and δ⁽ˡ⁾ (C-ordered,
samples × width) are passed as their transposes for the same reason.
"""

from __future__ import annotations

import numpy as np

from byhand.errors import ByhandError
from byhand.network import Network, views
from byhand.scipy_parts import fortran_blas

Array = np.ndarray


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
        #: the forward pass's product (byhand.step.blas), None for a dtype BLAS has not
        self.gemm = blas(dt)[0] if np.dtype(dt).type in BLAS_PREFIX else None

    @property
    def output(self) -> Array:
        return self.activations[-1]

    def __repr__(self) -> str:
        return f"Workspace(rows={self.rows})"


def forward(net: Network, ws: Workspace, x: Array | None = None) -> Array:
    """z⁽ˡ⁾ = a⁽ˡ⁻¹⁾W⁽ˡ⁾ᵀ + b⁽ˡ⁾ and a⁽ˡ⁾ = f(z⁽ˡ⁾), into ws; returns o.

    a⁽⁰⁾ is ws.x, or `x`: rows of the network's dtype, at most ws.rows of them (an evaluation
    runs a data set through in chunks this way, without copying it into ws.x). The caller
    silences NumPy's floating-point warnings: the activations run unguarded, as entering
    NumPy's error state costs about a microsecond a call.

    z is filled with b row by row (z[...] = b), then one gemm adds zᵀ += W⁽ˡ⁾a⁽ˡ⁻¹⁾ᵀ in z's
    memory (C-ordered z is zᵀ in Fortran order). Measured on one core, float32: SciPy's gemm
    at 10 × 784 × 30 4.9 µs against 5.9 for np.dot; the broadcast copy 0.24 µs against 0.99
    for z += b (NumPy's ufuncs pay for broadcasting, assignment does not).
    """
    a = ws.x if x is None else x
    rows = len(a)
    whole = rows == ws.rows
    gemm = ws.gemm
    for l, layer in enumerate(net.layers):
        z, out = ws.zs[l], ws.activations[l + 1]
        if not whole:
            z, out = z[:rows], out[:rows]
        if gemm is None:
            np.dot(a, layer.W.T, out=z)
            z += layer.b
        else:
            # every row of z set to b, then zᵀ ← (Wᵀ)ᵀaᵀ + 1·zᵀ: the bias added by gemm's β = 1
            # (gemm(α, A, B, β, C, trans_a, trans_b, overwrite_c); see blas)
            z[...] = layer.b
            gemm(1.0, layer.W.T, a.T, 1.0, z.T, 1, 0, 1)
        a = layer.activation.unguarded(z, out=out)
    return a


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


#: the BLAS routines' letter for each dtype the step trains in
BLAS_PREFIX = {np.float32: "s", np.float64: "d"}


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

    def __call__(self, ws: Workspace) -> None:
        net, optimizer, gemm, gemv = self.net, self.optimizer, self.gemm, self.gemv
        layers = net.layers
        forward(net, ws)
        o, z = ws.activations[-1], ws.zs[-1]
        delta = net.loss.delta(
            o, ws.y, z, layers[-1].activation, out=ws.deltas[-1], scratch=ws.scratch[-1]
        )
        c = optimizer.scale / ws.rows
        fused = optimizer.fused and ws.rows <= FUSED_ROWS
        # sgd's weight decay: W − η(g + λW) = (1 − ηλ)W − ηg, the factor 1 − ηλ as gemm's beta
        beta = 1.0 - optimizer.lr * optimizer.l2
        for l in reversed(range(len(layers))):
            layer, a = layers[l], ws.activations[l]
            if l > 0:
                # δ⁽ˡ⁾W⁽ˡ⁾ with the weights as they were: taken before W⁽ˡ⁾ is updated
                back = np.dot(delta, layer.W, out=ws.deltas[l - 1])
            if fused:
                # Wᵀ ← β Wᵀ − c a⁽ˡ⁻¹⁾ᵀδ: one gemm into W's own memory (its Fortran view)
                gemm(-c, a.T, delta.T, beta, layer.W.T, 0, 1, 1)
                # b ← b − c δᵀ1: one gemv into b
                gemv(-c, delta.T, ws.ones, 1.0, layer.b, 0, 1, 0, 1, 0, 1)
            else:
                # the scaled δ, c·δ⁽ˡ⁾ (rows × neurons, the small side of the product), into
                # the layer's scratch (f'(z⁽ˡ⁾) there is used up), then g = (cδ)ᵀa and (cδ)ᵀ1
                scaled_delta = np.multiply(delta, c, out=ws.scratch[l])
                np.matmul(scaled_delta.T, a, out=ws.grad_W[l])
                np.dot(ws.ones, scaled_delta, out=ws.grad_b[l])
            if l > 0:
                below = layers[l - 1].activation
                delta = below.backward(
                    ws.zs[l - 1], ws.activations[l], back, out=back, scratch=ws.scratch[l - 1]
                )
        if not fused:
            optimizer.apply(ws.grad_W, ws.grad)
