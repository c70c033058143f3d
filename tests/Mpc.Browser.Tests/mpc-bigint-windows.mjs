// Run by MpcBigIntModuleTests under node: `node mpc-bigint-windows.mjs <path of mpc-bigint.js> <modulus hex> <value hex> <exponent hex>...`.
// Each exponent is padded to the modulus' byte length, as JsBigIntBackend.ModPow hands it over, and raised through the
// module's own modPowBytes (the result) and modPowBigInt with the test hook (the products the window loop computed).
// Prints one JSON array: per exponent the result, the number of products (squarings and multiplications) and the
// shortest and longest operand of any of them, in bits.
import { pathToFileURL } from 'node:url';

const [modulePath, modulusHex, valueHex, ...exponentHexes] = process.argv.slice(2);
const { modPowBytes, modPowBigInt } = await import(pathToFileURL(modulePath).href);

const bytesOf = (hex, length) => Uint8Array.from(Buffer.from(hex.padStart(2 * length, '0'), 'hex'));
const modulusLength = Math.ceil(modulusHex.length / 2);
const modulus = BigInt('0x' + modulusHex);
const value = BigInt('0x' + valueHex);

const report = exponentHexes.map(exponentHex => {
  const exponent = bytesOf(exponentHex, modulusLength);
  const result = Buffer.from(modPowBytes(bytesOf(valueHex, modulusLength), exponent, bytesOf(modulusHex, modulusLength))).toString('hex');
  let products = 0;
  let shortestOperandBits = Infinity;
  let longestOperandBits = 0;
  modPowBigInt(value, BigInt('0x' + exponentHex), modulus, 8 * exponent.length, (a, b) => {
    products++;
    for (const operand of [a, b]) {
      const bits = operand.toString(2).length;
      shortestOperandBits = Math.min(shortestOperandBits, bits);
      longestOperandBits = Math.max(longestOperandBits, bits);
    }
  });
  return { result, products, shortestOperandBits: products ? shortestOperandBits : 0, longestOperandBits };
});
console.log(JSON.stringify(report));
