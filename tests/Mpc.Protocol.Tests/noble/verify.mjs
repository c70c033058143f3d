// Verifies ECDSA signatures with @noble/curves and its defaults (lowS: true on every curve): one
// "curve publicKeyHex digestHex derSignatureHex" line in, one "ok" or "fail" line out.
import { createInterface } from 'node:readline';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { p256, p384 } from '@noble/curves/nist.js';

const curves = { secp256k1, 'P-256': p256, 'P-384': p384 };
const hex = (text) => Uint8Array.from(Buffer.from(text, 'hex'));
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const [curve, publicKey, digest, signature] = line.trim().split(' ');
  let ok = false;
  try {
    // The digest is what is signed (prehash: false); every other option keeps noble's default.
    ok = curves[curve].verify(hex(signature), hex(digest), hex(publicKey), { prehash: false, format: 'der' });
  } catch {
    ok = false;
  }
  console.log(ok ? 'ok' : 'fail');
}
