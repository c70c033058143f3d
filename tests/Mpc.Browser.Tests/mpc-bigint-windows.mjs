// Run by MpcBigIntModuleTests under node: `node mpc-bigint-windows.mjs <path of mpc-bigint.js> <modulus hex> <value hex> <exponent hex>...`.
// Each exponent is padded to the modulus' byte length, as JsBigIntBackend.ModPow hands it over, and raised through the
// module's own modPowBytes (the result) and modPowBigInt with the test hook (the multiplications the window loop did).
// Prints one JSON array: per exponent the result, the number of multiplications and the smallest multiplier's length.
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
  let multiplications = 0;
  let smallestMultiplierBits = Infinity;
  modPowBigInt(value, BigInt('0x' + exponentHex), modulus, 8 * exponent.length, factor => {
    multiplications++;
    smallestMultiplierBits = Math.min(smallestMultiplierBits, factor.toString(2).length);
  });
  return { result, multiplications, smallestMultiplierBits: multiplications ? smallestMultiplierBits : 0 };
});
console.log(JSON.stringify(report));
