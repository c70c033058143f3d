// Modular exponentiation in the JavaScript engine's native BigInt, imported by the .NET code as "mpc-bigint"
// (JsBigIntBackend). Numbers arrive and leave as lower-case hexadecimal without a prefix.

const WINDOW_BITS = 5;

/** value^exponent mod modulus for hexadecimal value in [0, modulus), exponent ≥ 0, odd modulus > 1. */
export function modPow(valueHex, exponentHex, modulusHex) {
  return modPowBigInt(BigInt('0x' + valueHex), BigInt('0x' + exponentHex), BigInt('0x' + modulusHex)).toString(16);
}

/**
 * Fixed-window exponentiation: WINDOW_BITS squarings then one multiplication per window, table[0] = 1 included, so
 * the sequence of operations depends on the exponent's length only, not on its bits (BigInt arithmetic itself makes
 * no timing promise).
 */
export function modPowBigInt(value, exponent, modulus) {
  if (modulus <= 1n || exponent < 0n || value < 0n || value >= modulus) {
    throw new RangeError('modPow needs 0 <= value < modulus, modulus > 1 and exponent >= 0');
  }
  const size = 1 << WINDOW_BITS;
  const table = new Array(size);
  table[0] = 1n;
  for (let i = 1; i < size; i++) {
    table[i] = (table[i - 1] * value) % modulus;
  }
  const bits = exponent.toString(2);
  const padded = '0'.repeat((WINDOW_BITS - (bits.length % WINDOW_BITS)) % WINDOW_BITS) + bits;
  let result = table[parseInt(padded.slice(0, WINDOW_BITS), 2)];
  for (let i = WINDOW_BITS; i < padded.length; i += WINDOW_BITS) {
    for (let j = 0; j < WINDOW_BITS; j++) {
      result = (result * result) % modulus;
    }
    result = (result * table[parseInt(padded.slice(i, i + WINDOW_BITS), 2)]) % modulus;
  }
  return result;
}
