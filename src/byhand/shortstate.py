"""Short codes for a page state, so that a lesson link stays short: JSON, its numbers packed.

    encode(state, precision) -> "b1.<base64url>"     decode(code) -> state
    for_link(state) -> (code, precision): the most exact precision whose code fits a link

The state is any JSON object (the page's: model, inputs, target, η, …). Every list of numbers in
it (a weight row, the biases, the inputs) is taken out of the JSON and packed as binary, then
the JSON and the numbers are deflated together (zlib) and written in base64url, which a URL
fragment carries as it is. The tag before the dot names the format, so a later format can be
read beside this one.

`precision` says what each number keeps:

    exact    float64, every bit
    float32  float32: about 7 significant digits
    shown    the 4 decimals the page shows: each number within ½·10⁻⁴ of itself, kept as a
             whole number of 10⁻⁴; an array with a number of 2¹⁵ or more is kept as float64

A list of numbers, or a matrix of them (a layer's weights), is packed as one array. A link
holds at most LINK_CHARS characters of code; a longer state is for a file (the page offers
"download state"). A 64-30-10 network trained on digits, with its inputs, at `shown` makes
about 7,600 characters (docs/interop.md gives the measurements).

Decoding checks everything a hostile code could get wrong (length, tag, base64, the deflated
size, the JSON, the packed numbers' count and finiteness, and a model's fields) and says
which in a ByhandError, never a traceback.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import zlib

import numpy as np

from byhand.errors import ByhandError

TAG = "b1"
#: the longest code a shared link carries (8 KB); a longer one is offered as a file
LINK_CHARS = 8 * 1024
#: the longest code decode() reads, and the most bytes its state may inflate to
MAX_CODE_CHARS = 400_000
MAX_STATE_BYTES = 4 * 1024 * 1024
#: how deeply a state may nest lists and objects
MAX_DEPTH = 32
#: decimals the page shows (plots.js fmt), which `shown` keeps
SHOWN_DECIMALS = 4
PRECISIONS = ("exact", "float32", "shown")
#: how each kind of packed array is stored: its NumPy dtype. `shown` numbers are whole
#: numbers n of 10⁻⁴, zigzag-mapped to 2n or −2n − 1 (≥ 0) as uint32 ("dz"); every packed
#: array is written byte plane by byte plane (all first bytes, then all second bytes, …), so
#: the high bytes of small numbers, nearly all alike, deflate to almost nothing
DTYPES = {"f8": "<f8", "f4": "<f4", "dz": "<u4"}
PLACEHOLDER = "#"
BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
#: where a state may carry a model file (m is the page's key): decode() checks it as one
MODEL_KEYS = ("m", "model")


def _is_number(v) -> bool:
    return type(v) in (int, float) and math.isfinite(v)


def _numbers(value) -> list[int] | None:
    """The shape of `value` when it is a list of numbers, or a matrix (equal rows of numbers)."""
    if not isinstance(value, list) or not value:
        return None
    if all(_is_number(v) for v in value):
        return [len(value)]
    rows = all(isinstance(r, list) and r and all(_is_number(v) for v in r) for r in value)
    if rows and len({len(r) for r in value}) == 1:
        return [len(value), len(value[0])]
    return None


def _kind(a: np.ndarray, precision: str) -> str:
    if precision == "exact":
        return "f8"
    if precision == "float32":
        return "f4"
    return "dz" if np.abs(a).max() < 2**15 else "f8"


def _planes(raw: bytes, itemsize: int) -> bytes:
    return np.frombuffer(raw, np.uint8).reshape(-1, itemsize).T.tobytes()


def _pack(a: np.ndarray, kind: str) -> bytes:
    if kind == "dz":
        n = np.rint(a * 10**SHOWN_DECIMALS).astype(np.int64)
        a = np.where(n < 0, -2 * n - 1, 2 * n)
    dtype = np.dtype(DTYPES[kind])
    return _planes(a.astype(dtype).tobytes(), dtype.itemsize)


def _unpack(raw: bytes, kind: str, count: int) -> np.ndarray:
    dtype = np.dtype(DTYPES[kind])
    joined = np.frombuffer(raw, np.uint8).reshape(dtype.itemsize, count).T.copy()
    a = joined.view(dtype).ravel()
    if kind == "dz":
        u = a.astype(np.int64)
        return np.where(u % 2 == 1, -(u + 1) // 2, u // 2) / 10**SHOWN_DECIMALS
    return a.astype(np.float64)


def encode(state: dict, precision: str = "float32") -> str:
    """A short code for `state` (a JSON object), its numbers kept to `precision`."""
    if precision not in PRECISIONS:
        raise ByhandError(f"precision: choose one of {', '.join(PRECISIONS)}, not {precision!r}")
    if not isinstance(state, dict):
        raise ByhandError("state: must be a JSON object")
    arrays: list[list] = []
    blobs: list[bytes] = []

    def strip(value, depth: int):
        if depth > MAX_DEPTH:
            raise ByhandError(f"state: nested more than {MAX_DEPTH} deep")
        if isinstance(value, dict):
            if PLACEHOLDER in value:
                raise ByhandError(f"state: a key {PLACEHOLDER!r} is reserved for packed numbers")
            return {str(k): strip(v, depth + 1) for k, v in value.items()}
        shape = _numbers(value)
        if shape is not None:
            a = np.asarray(value, dtype=np.float64)
            kind = _kind(a, precision)
            arrays.append([shape, kind])
            blobs.append(_pack(a.ravel(), kind))
            return {PLACEHOLDER: len(arrays) - 1}
        if isinstance(value, list):
            return [strip(v, depth + 1) for v in value]
        if isinstance(value, float) and not math.isfinite(value):
            raise ByhandError("state: numbers must be finite")
        return value

    head = {"state": strip(state, 0), "arrays": arrays}
    text = json.dumps(head, separators=(",", ":"), ensure_ascii=False).encode()
    payload = len(text).to_bytes(4, "little") + text + b"".join(blobs)
    packed = base64.urlsafe_b64encode(zlib.compress(payload, 9)).rstrip(b"=").decode("ascii")
    return f"{TAG}.{packed}"


def for_link(state: dict) -> tuple[str, str]:
    """(code, precision): `state` at the most exact precision whose code fits a link
    (exact, then float32, then shown); when none fits, the exact code, for a file."""
    for precision in PRECISIONS:
        code = encode(state, precision)
        if len(code) <= LINK_CHARS:
            return code, precision
    return encode(state, "exact"), "exact"


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_STATE_BYTES + 1)
    except zlib.error:
        raise ByhandError("code: not a state byhand wrote (it does not inflate)") from None
    if len(out) > MAX_STATE_BYTES or inflater.unconsumed_tail:
        raise ByhandError(f"code: the state inflates to more than {MAX_STATE_BYTES} bytes")
    if not inflater.eof:
        raise ByhandError("code: the state is cut short")
    return out


def decode(code: str) -> dict:
    """The state a code holds; a code that is not one byhand wrote is an error saying why."""
    if not isinstance(code, str) or not code:
        raise ByhandError("code: give the text after #state=")
    if len(code) > MAX_CODE_CHARS:
        raise ByhandError(f"code: at most {MAX_CODE_CHARS} characters (got {len(code)})")
    tag, dot, body = code.partition(".")
    if not dot or tag != TAG:
        raise ByhandError(f"code: unknown format {tag[:10]!r}; this byhand reads {TAG}")
    if not BASE64URL.fullmatch(body):
        raise ByhandError("code: not base64url text (letters, digits, - and _ only)")
    try:
        data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise ByhandError("code: not base64url text") from None
    payload = _inflate(data)
    size = int.from_bytes(payload[:4], "little")
    if len(payload) < 4 + size:
        raise ByhandError("code: the state is cut short")
    try:
        head = json.loads(payload[4 : 4 + size])
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ByhandError("code: its JSON is not readable") from None
    if not isinstance(head, dict) or not isinstance(head.get("state"), dict):
        raise ByhandError("code: holds no state object")
    arrays = head.get("arrays")
    if not isinstance(arrays, list):
        raise ByhandError("code: its list of packed numbers is missing")
    blob = payload[4 + size :]
    values, offset = [], 0
    for i, spec in enumerate(arrays):
        shape = spec[0] if isinstance(spec, list) and len(spec) == 2 else None
        ok = (
            isinstance(shape, list)
            and len(shape) in (1, 2)
            and all(type(n) is int and 1 <= n <= len(blob) for n in shape)
            and spec[1] in DTYPES
        )
        if not ok:
            raise ByhandError(f"code: packed array {i} is not described as byhand writes it")
        count = math.prod(shape)
        end = offset + count * np.dtype(DTYPES[spec[1]]).itemsize
        if end > len(blob):
            raise ByhandError(f"code: packed array {i} is cut short")
        a = _unpack(blob[offset:end], spec[1], count)
        if not np.all(np.isfinite(a)):
            raise ByhandError(f"code: packed array {i} holds NaN or infinity")
        values.append(a.reshape(shape).tolist())
        offset = end
    if offset != len(blob):
        raise ByhandError("code: holds more numbers than its lists describe")
    used = [False] * len(values)

    def restore(value, depth: int):
        if depth > MAX_DEPTH:
            raise ByhandError(f"code: the state nests more than {MAX_DEPTH} deep")
        if isinstance(value, dict):
            if PLACEHOLDER in value:
                i = value[PLACEHOLDER]
                if len(value) != 1 or type(i) is not int or not 0 <= i < len(values) or used[i]:
                    raise ByhandError("code: refers to packed numbers it does not hold")
                used[i] = True
                return values[i]
            return {k: restore(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [restore(v, depth + 1) for v in value]
        return value

    state = restore(head["state"], 0)
    if not all(used):
        raise ByhandError("code: holds packed numbers its state does not use")
    for key in MODEL_KEYS:
        if key in state:
            from byhand import modelfile

            try:
                modelfile.from_dict(state[key])
            except ByhandError as err:
                raise ByhandError(
                    f"code: its model ({key}) is not a valid model file: {err}"
                ) from None
    return state
