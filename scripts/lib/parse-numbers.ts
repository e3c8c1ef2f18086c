// Option parsers shared by the benchmark programs (commander calls them with the raw text).

export function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new Error(`not a non-negative integer: ${v}`);
  return n;
}

export function fraction(v: string): number {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new Error('Invalid value (should be between 0 and 1)');
  return n;
}
