// mpc-signer in the browser: the JavaScript API a web application calls. The work runs in a Web Worker
// (./mpc-worker.js: the .NET SDK compiled to WebAssembly, with JS BigInt arithmetic); this module only passes
// messages, so the page never blocks. Types: ./mpc-signer.d.ts. README.md, "Signing in the browser".

/** A signer for one server and one user (bearer token), with its own worker. */
export class MpcSigner {
  #worker;
  #nextId = 1;
  #pending = new Map();
  #onProgress;

  constructor(worker, onProgress) {
    this.#worker = worker;
    this.#onProgress = onProgress;
    worker.onmessage = ({ data }) => {
      if (data.progress) {
        this.#onProgress?.(data.progress);
        return;
      }
      const pending = this.#pending.get(data.id);
      this.#pending.delete(data.id);
      if (data.error !== undefined) {
        pending?.reject(new Error(data.error));
      } else {
        pending?.resolve(data.result);
      }
    };
    worker.onerror = event => {
      const error = new Error(`mpc-signer worker failed: ${event.message}`);
      for (const { reject } of this.#pending.values()) {
        reject(error);
      }
      this.#pending.clear();
    };
  }

  /**
   * Starts the worker, connects it to `server` (the signing service's gRPC-Web address) with `token`, and loads this
   * browser's device parameters, creating them the first time (progress stage "device-setup").
   */
  static async open({ server, token, onProgress, workerUrl = new URL('./mpc-worker.js', import.meta.url) }) {
    const signer = new MpcSigner(new Worker(workerUrl, { type: 'module' }), onProgress);
    await signer.#call('connect', { server: String(server), token });
    signer.device = await signer.#call('setupDevice');
    return signer;
  }

  /** A new split key made with the server; its share is sealed in this browser's IndexedDB. */
  createKey({ curve = 'p256' } = {}) {
    return this.#call('createKey', { curve });
  }

  /** Opens the shares stored in this browser (after a reload); throws if a stored record was changed. */
  openStoredKeys() {
    return this.#call('openStoredKeys');
  }

  /** The DER ECDSA signature of `bytes` (hashed with SHA-256, SHA-384 on P-384), verified before it is returned. */
  async sign(keyId, bytes) {
    const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : new Uint8Array(bytes);
    return (await this.#call('sign', { keyId, data })).der;
  }

  /** sign() with the time the worker spent, in milliseconds. */
  signTimed(keyId, bytes) {
    const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : new Uint8Array(bytes);
    return this.#call('sign', { keyId, data });
  }

  /** How many signatures of the key have their randomness prepared (computed while the worker is idle). */
  preparedRandomness(keyId) {
    return this.#call('preparedRandomness', { keyId });
  }

  /** The user's keys as the server knows them. */
  listKeys() {
    return this.#call('listKeys');
  }

  /** Stops the worker; pending calls fail. */
  close() {
    this.#worker.terminate();
    for (const { reject } of this.#pending.values()) {
      reject(new Error('mpc-signer closed'));
    }
    this.#pending.clear();
  }

  /** @internal the browser benchmark: median milliseconds of one EC scalar multiplication in WebAssembly. */
  scalarMultiplyMs(curve = 'p256', runs = 9) {
    return this.#call('scalarMultiplyMs', { curve, runs });
  }

  /** @internal for the browser tests; present only in builds with test hooks. */
  shareScalarHexForTest(keyId) {
    return this.#call('shareScalarHexForTest', { keyId });
  }

  #call(op, args) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, op, args });
    });
  }
}

/** A DER signature as base64, and the commands that check it with OpenSSL. */
export function opensslCommands({ documentFile = 'document.txt', signatureFile = 'signature.der', publicKeyFile = 'public.pem' } = {}) {
  return `openssl dgst -sha256 -verify ${publicKeyFile} -signature ${signatureFile} ${documentFile}`;
}

export function toBase64(bytes) {
  let binary = '';
  for (const b of bytes) {
    binary += String.fromCharCode(b);
  }
  return btoa(binary);
}
