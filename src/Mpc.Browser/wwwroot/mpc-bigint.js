// Modular exponentiation in the JavaScript engine's native BigInt, imported by the .NET code as "mpc-bigint"
// (JsBigIntBackend). Numbers arrive as memory views of unsigned big-endian bytes and leave as an array of bytes.

const WINDOW_BITS = 5;
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** Unsigned big-endian bytes (a Uint8Array or a .NET memory view, read before this returns) as a BigInt. */
export function bytesToBigInt(bytes) {
  const view = typeof bytes.slice === 'function' && !(bytes instanceof Uint8Array) ? bytes.slice() : bytes;
  let hex = '0x0';
  for (let i = 0; i < view.length; i++) {
    hex += HEX[view[i]];
  }
  return BigInt(hex);
}

/** A non-negative BigInt as unsigned big-endian bytes, without leading zeros (zero is one byte). */
export function bigIntToBytes(value) {
  let hex = value.toString(16);
  if (hex.length % 2) {
    hex = '0' + hex;
  }
  const bytes = new Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = parseInt(hex.substr(2 * i, 2), 16);
  }
  return bytes;
}

/** value^exponent mod modulus for unsigned big-endian value in [0, modulus), exponent ≥ 0, odd modulus > 1. */
export function modPowBytes(value, exponent, modulus) {
  return bigIntToBytes(modPowBigInt(bytesToBigInt(value), bytesToBigInt(exponent), bytesToBigInt(modulus)));
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
