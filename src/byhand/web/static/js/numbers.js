// How the page writes a number: the rules of byhand/numbers.py, the engine's one number module
// (tests/test_number_faces.py runs both on the same values). 4 decimals, or 3 significant
// figures below 0.1; m × 10ⁿ below SMALL and from LARGE on; a real minus sign.

export const DECIMALS = 4;
export const FIGURES = 3;
export const SMALL = 1e-4;
export const LARGE = 1e7;
const MINUS = "−";
const SUPERSCRIPT = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };

/** The decimals `value` keeps: `digits`, or at least FIGURES significant figures below 0.1. */
function decimals(value, digits) {
  const v = Math.abs(value);
  if (v === 0 || v >= 0.1 || !Number.isFinite(v)) return digits;
  return Math.max(digits, FIGURES - 1 - Math.floor(Math.log10(v)));
}

const strip = (text) => (text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text);

/** [mantissa or fixed text with "-" signs, exponent or null], as numbers._parts. */
function parts(v, digits, zeros) {
  if (v === 0) return ["0", null];
  if (zeros && Number.isInteger(v) && Math.abs(v) < LARGE) return [String(v), null];
  if (Math.abs(v) < SMALL || Math.abs(v) >= LARGE) {
    // as many significant figures as `digits` decimals would show, 3 to 15
    const e = Math.floor(Math.log10(Math.abs(v)));
    const figures = Math.max(FIGURES, Math.min(15, decimals(v, digits) + e + 1));
    const [mantissa, exponent] = v.toExponential(figures - 1).split("e");
    return [strip(mantissa), Number(exponent)];
  }
  let text = v.toFixed(decimals(v, digits));
  if (!zeros) text = strip(text);
  return [text === "-0" || text === "" ? "0" : text, null];
}

/** A number as text: 0.9526, −0.00255, 5.2 × 10⁻⁶ (trailing zeros kept with `zeros`). */
export function text(value, digits = DECIMALS, zeros = false) {
  const v = Number(value);
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
  let [body, exponent] = parts(v, digits, zeros);
  if (exponent !== null) body += ` × 10${[...String(exponent)].map((c) => SUPERSCRIPT[c]).join("")}`;
  return body.replaceAll("-", MINUS);
}

/** A number in a table's column: trailing zeros kept, 0.9520 (numbers.column). */
export function column(value, digits = DECIMALS) {
  return text(value, digits, true);
}

/** A number for an input box's value: what the box and parseFloat read back, 5.2e-6. */
export function inputValue(value, digits = DECIMALS) {
  const v = Number(value);
  if (!Number.isFinite(v)) return "";
  const [body, exponent] = parts(v, digits, false);
  return exponent === null ? body : `${body}e${exponent}`;
}

/** What the page shows for a number; "–" where there is none yet. */
export function fmt(value, digits = DECIMALS) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "–";
  return column(value, digits);
}
