/** The benchmark prompt: BOS then n-1 ids spread over the vocabulary (same on every engine). */
export function promptTokens(n: number, vocab: number): number[] {
  const tokens = [1];
  for (let i = 1; i < n; i++) tokens.push(3 + ((i * 7919) % (vocab - 3)));
  return tokens;
}
