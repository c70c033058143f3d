// Modular exponentiation in the JavaScript engine's native BigInt, imported by the .NET code as "mpc-bigint"
// (JsBigIntBackend). Numbers arrive as memory views of unsigned big-endian bytes and leave as an array of bytes.

const WINDOW_BITS = 5;
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** A Uint8Array as it is; a .NET memory view copied out (it is valid only until the imported call returns). */
function viewOf(bytes) {
  return typeof bytes.slice === 'function' && !(bytes instanceof Uint8Array) ? bytes.slice() : bytes;
}

/** Unsigned big-endian bytes (a Uint8Array or a .NET memory view, read before this returns) as a BigInt. */
export function bytesToBigInt(bytes) {
  const view = viewOf(bytes);
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

/**
 * value^exponent mod modulus for unsigned big-endian value in [0, modulus), exponent ≥ 0, odd modulus > 1. The exponent
 * is read over all of its bytes, leading zeros included: the caller pads a secret exponent to a public length
 * (JsBigIntBackend: the secret's range for ModPowSecret, the modulus' length for ModPow), and that length, not the
 * exponent's, sets the number of windows.
 */
export function modPowBytes(value, exponent, modulus) {
  const exponentBytes = viewOf(exponent);
  return bigIntToBytes(modPowBigInt(bytesToBigInt(value), bytesToBigInt(exponentBytes), bytesToBigInt(modulus), 8 * exponentBytes.length));
}

/**
 * Fixed-window exponentiation over `exponentBits` bits of the exponent (default: its own length, for public exponents),
 * rounded up to whole windows. For a given modulus and exponentBits the sequence of operations, and the length of every
 * operand, is the same for every exponent below 2^exponentBits and every base: WINDOW_BITS squarings, then one
 * multiplication by a table entry, per window, zero windows included. Every value is kept as x + modulus·2^64 with x in
 * [0, modulus) (`lift`), which has exactly bits(modulus) + 64 bits whatever x is: with plain residues the accumulator
 * stayed 1 through the leading zero windows and a zero window multiplied by 1, and V8 takes one-digit shortcuts there
 * (and % returns at once when the product is already below the modulus), so the time told the exponent's length.
 * Still dependent on the exponent: which table entry is read (an index by the window's value: no cache-timing
 * promise), and the time of each BigInt operation, which V8 does not promise constant for operands of one length.
 * `onProduct(a, b)`, for tests, sees the operands of every multiplication and squaring of the window loop.
 */
export function modPowBigInt(value, exponent, modulus, exponentBits = bitLength(exponent), onProduct = undefined) {
  if (modulus <= 1n || exponent < 0n || value < 0n || value >= modulus) {
    throw new RangeError('modPow needs 0 <= value < modulus, modulus > 1 and exponent >= 0');
  }
  if (bitLength(exponent) > exponentBits) {
    throw new RangeError('the exponent is longer than the length it is padded to');
  }
  const offset = modulus << 64n;
  const lift = x => x + offset;
  const multiply = (a, b) => {
    onProduct?.(a, b);
    return lift((a * b) % modulus);
  };
  const size = 1 << WINDOW_BITS;
  const table = new Array(size);
  table[0] = lift(1n);
  const base = lift(value);
  for (let i = 1; i < size; i++) {
    table[i] = lift((table[i - 1] * base) % modulus);
  }
  const windows = Math.max(1, Math.ceil(exponentBits / WINDOW_BITS));
  const padded = exponent.toString(2).padStart(windows * WINDOW_BITS, '0');
  let result = table[parseInt(padded.slice(0, WINDOW_BITS), 2)];
  for (let i = WINDOW_BITS; i < padded.length; i += WINDOW_BITS) {
    for (let j = 0; j < WINDOW_BITS; j++) {
      result = multiply(result, result);
    }
    result = multiply(result, table[parseInt(padded.slice(i, i + WINDOW_BITS), 2)]);
  }
  return result % modulus;
}

// Prime search for the device's ring-Pedersen parameters: the whole search runs here, in native BigInt, because each
// candidate costs one exponentiation and a safe prime takes on the order of a thousand candidates (the .NET
// interpreter would take minutes). Randomness from crypto.getRandomValues (the browser's CSPRNG).

const SIEVE_BOUND = 1 << 15;
const SIEVE_LENGTH = 1 << 16;
const MILLER_RABIN_ROUNDS = 40;

const SMALL_ODD_PRIMES = (() => {
  const composite = new Uint8Array(SIEVE_BOUND);
  const primes = [];
  for (let i = 3; i < SIEVE_BOUND; i += 2) {
    if (!composite[i]) {
      primes.push(i);
      for (let j = i * i; j < SIEVE_BOUND; j += 2 * i) {
        composite[j] = 1;
      }
    }
  }
  return primes;
})();

function randomBits(bits) {
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(bits / 8)));
  let value = bytesToBigInt(bytes);
  return value & ((1n << BigInt(bits)) - 1n);
}

function bitLength(value) {
  return value === 0n ? 0 : value.toString(2).length;
}

/** A uniform value in [low, high] (rejection sampling). */
function randomBetween(low, high) {
  const span = high - low + 1n;
  const bits = bitLength(span);
  for (;;) {
    const candidate = randomBits(bits);
    if (candidate < span) {
      return low + candidate;
    }
  }
}

/** Miller–Rabin with random bases; n odd > 3. */
export function millerRabin(n, rounds = MILLER_RABIN_ROUNDS) {
  const nMinusOne = n - 1n;
  let d = nMinusOne;
  let r = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    r++;
  }
  for (let round = 0; round < rounds; round++) {
    let x = modPowBigInt(randomBetween(2n, n - 2n), d, n);
    if (x === 1n || x === nMinusOne) {
      continue;
    }
    let witness = true;
    for (let i = 1; i < r && witness; i++) {
      x = (x * x) % n;
      if (x === nMinusOne) {
        witness = false;
      }
    }
    if (witness) {
      return false;
    }
  }
  return true;
}

/** Unsigned big-endian candidate (odd, > 3): true when it passes trial division and Miller–Rabin. */
export function isProbablePrimeBytes(candidate) {
  const n = bytesToBigInt(candidate);
  if (n < 2n) {
    return false;
  }
  for (const prime of [2, ...SMALL_ODD_PRIMES.slice(0, 200)]) {
    const p = BigInt(prime);
    if (n === p) {
      return true;
    }
    if (n % p === 0n) {
      return false;
    }
  }
  return millerRabin(n);
}

/**
 * A safe prime p = 2q + 1 of exactly `bits` bits (its two top bits set, so a product of two has 2·bits bits), as
 * unsigned big-endian bytes. Sieves a window of q candidates against the odd primes below 2^15 (for q and for 2q + 1),
 * then per survivor: Fermat base 2 on q, Fermat base 2 on p, Miller–Rabin (40 random bases) on q. With q prime,
 * 2^(p−1) ≡ 1 (mod p) and gcd(2² − 1, p) = 1 prove p prime (Pocklington, q > √p). `onProgress(candidatesTested)`
 * is called every 256 exponentiations.
 */
export function generateSafePrime(bits, onProgress) {
  if (bits < 16) {
    throw new RangeError('safe primes of at least 16 bits');
  }
  const qBits = bits - 1;
  const top = (1n << BigInt(qBits - 1)) | (1n << BigInt(qBits - 2));
  let tested = 0;
  for (;;) {
    const base = randomBits(qBits) | top | 1n;
    // k marks q = base + 2k; struck out when q or 2q + 1 has a small factor.
    const struck = new Uint8Array(SIEVE_LENGTH);
    for (const prime of SMALL_ODD_PRIMES) {
      const residue = Number(base % BigInt(prime));
      const halfInverse = (prime + 1) / 2; // 2⁻¹ mod prime
      // q ≡ 0: 2k ≡ −residue; 2q + 1 ≡ 0 ⇔ q ≡ (prime − 1)/2: 2k ≡ (prime − 1)/2 − residue.
      for (const target of [(prime - residue) % prime, ((prime - 1) / 2 - residue + prime) % prime]) {
        for (let k = (target * halfInverse) % prime; k < SIEVE_LENGTH; k += prime) {
          struck[k] = 1;
        }
      }
    }
    for (let k = 0; k < SIEVE_LENGTH; k++) {
      if (struck[k]) {
        continue;
      }
      const q = base + 2n * BigInt(k);
      if (bitLength(q) !== qBits) {
        break;
      }
      if (++tested % 256 === 0 && onProgress) {
        onProgress(tested);
      }
      if (modPowBigInt(2n, q - 1n, q) !== 1n) {
        continue;
      }
      const p = 2n * q + 1n;
      if (modPowBigInt(2n, p - 1n, p) !== 1n || !millerRabin(q)) {
        continue;
      }
      return p;
    }
  }
}

/** generateSafePrime as unsigned big-endian bytes, reporting progress through the registered hook. */
export function generateSafePrimeBytes(bits) {
  return bigIntToBytes(generateSafePrime(bits, tested => globalThis.mpcPrimeProgress?.(bits, tested)));
}

/**
 * A random prime of exactly `bits` bits with its two top bits set (≡ 3 mod 4 when `blum`), as a BigInt: a window of
 * candidates sieved by the odd primes below 2^15, then Fermat base 2 and Miller–Rabin (40 random bases).
 */
export function generatePrime(bits, blum) {
  if (bits < 16) {
    throw new RangeError('primes of at least 16 bits');
  }
  const top = (1n << BigInt(bits - 1)) | (1n << BigInt(bits - 2));
  const step = blum ? 4 : 2;
  for (;;) {
    const base = randomBits(bits) | top | (blum ? 3n : 1n);
    // k marks base + step·k; struck out when it has a small factor.
    const struck = new Uint8Array(SIEVE_LENGTH);
    for (const prime of SMALL_ODD_PRIMES) {
      const residue = Number(base % BigInt(prime));
      const stepInverse = Number(modPowBigInt(BigInt(step % prime), BigInt(prime - 2), BigInt(prime)));
      for (let k = (((prime - residue) % prime) * stepInverse) % prime; k < SIEVE_LENGTH; k += prime) {
        struck[k] = 1;
      }
    }
    for (let k = 0; k < SIEVE_LENGTH; k++) {
      if (struck[k]) {
        continue;
      }
      const candidate = base + BigInt(step) * BigInt(k);
      if (bitLength(candidate) !== bits) {
        break;
      }
      if (modPowBigInt(2n, candidate - 1n, candidate) === 1n && millerRabin(candidate)) {
        return candidate;
      }
    }
  }
}

/** generatePrime as unsigned big-endian bytes. */
export function generatePrimeBytes(bits, blum) {
  return bigIntToBytes(generatePrime(bits, blum));
}
