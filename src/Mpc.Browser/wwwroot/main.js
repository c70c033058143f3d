// Boots the .NET runtime with the JS BigInt module and runs the browser benchmark; the result lands in
// window.mpcBenchmark (read by the browser tests) and on the page.
import { dotnet } from './_framework/dotnet.js';
import * as bigint from './mpc-bigint.js';

const out = document.getElementById('out');
const params = new URLSearchParams(location.search);
const runs = Number(params.get('runs') ?? '9');

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function randomBigInt(bits) {
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(bits / 8)));
  const hex = Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('');
  return BigInt('0x' + hex) | (1n << BigInt(bits - 1));
}

/** The module alone, without .NET interop: the floor for the backend's figure. */
function pureJs(modulusBits, exponentBits) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const modulus = randomBigInt(modulusBits) | 1n;
    const value = randomBigInt(modulusBits) % modulus;
    const exponent = randomBigInt(exponentBits);
    const start = performance.now();
    bigint.modPowBigInt(value, exponent, modulus);
    times.push(performance.now() - start);
  }
  return Number(median(times).toFixed(2));
}

try {
  const { setModuleImports, getAssemblyExports, getConfig } = await dotnet.create();
  setModuleImports('mpc-bigint', bigint);
  const exports = await getAssemblyExports(getConfig().mainAssemblyName);
  const benchmarks = exports.Mpc.Browser.BrowserBenchmarks;
  const result = { runs };
  for (const [modulusBits, exponentBits] of [[4096, 2048], [4096, 256]]) {
    const viaDotnet = JSON.parse(benchmarks.ModPow(modulusBits, exponentBits, runs));
    result[`modPow${modulusBits}x${exponentBits}`] = { ...viaDotnet, pureJsMs: pureJs(modulusBits, exponentBits) };
  }
  window.mpcBenchmark = result;
  out.textContent = JSON.stringify(result, null, 2);
} catch (e) {
  window.mpcBenchmark = { error: String(e) };
  out.textContent = 'error: ' + e;
}
