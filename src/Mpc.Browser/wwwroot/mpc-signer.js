// mpc-signer in the browser: the JavaScript API a web application calls. The work runs in a Web Worker
// (./mpc-worker.js: the .NET SDK compiled to WebAssembly, with JS BigInt arithmetic); this module only passes
// messages, so the page never blocks. Types: ./mpc-signer.d.ts. README.md, "Signing in the browser".

/** A signer for one server and one user (bearer token), with its own worker. */
export class MpcSigner {
  #worker;
  #nextId = 1;
  #pending = new Map();
  #onProgress;
  #userId;

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
   * user's device parameters in this browser, creating them the first time (progress stage "device-setup"). The user
   * is `userId` if given, else the token's "sub": it selects the user's own vault (IndexedDB database), so users of
   * one browser profile never see or settle each other's records; no user, or a `userId` other than the token's
   * "sub", is refused. While the earlier single-user vault exists, an open adopts what it holds of keys the server lists
   * for this user (progress stage "vault-adopted"; docs/key-custody.md, "One vault per user"). With `passphrase`,
   * shares sealed from now on carry a second layer under it (PBKDF2-SHA256, 600 000 iterations, AES-GCM), and
   * openStoredKeys() needs it for such shares; the device parameters carry it too (open() needs it once they do),
   * and ones stored without it are replaced by new ones.
   */
  static async open({ server, token, userId, passphrase, onProgress, workerUrl = new URL('./mpc-worker.js', import.meta.url) }) {
    const user = userOf(token, userId);
    const signer = new MpcSigner(new Worker(workerUrl, { type: 'module' }), onProgress);
    signer.#userId = user;
    try {
      await signer.#call('connect', { server: String(server), token, userId: user, passphrase });
      signer.device = await signer.#call('setupDevice');
    } catch (e) {
      // A refused open (a wrong passphrase, a server that cannot be asked) leaves no worker holding the token.
      signer.close();
      throw e;
    }
    return signer;
  }

  /** A new split key made with the server; its share is sealed in this browser's IndexedDB. */
  createKey({ curve = 'p256' } = {}) {
    return this.#call('createKey', { curve });
  }

  /**
   * Opens the shares stored in this browser (after a reload); throws if a stored record was changed. A pending share
   * (a refresh, restore or enrolment whose reply was lost) is settled first: the server says which share it holds.
   */
  openStoredKeys() {
    return this.#call('openStoredKeys');
  }

  /**
   * Signs `bytes` (a string is UTF-8 encoded; hashed with SHA-256, SHA-384 on P-384). format 'der' (the default): the
   * DER ECDSA signature, verified before it is returned. format 'cms': a detached CMS SignedData (CAdES-BES attributes)
   * with `certificates` (the signer's first; DER bytes or PEM text, a PEM text may hold the whole chain), which
   * `openssl cms -verify -binary -content FILE` checks. format 'jws': a compact JSON Web Signature (a string) with the
   * bytes as its payload and "alg" ES256, ES384 or ES256K by the key's curve, which any JOSE library verifies.
   */
  async sign(keyId, bytes, { format = 'der', certificates = [] } = {}) {
    const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : new Uint8Array(bytes);
    if (format === 'der') {
      return (await this.#call('sign', { keyId, data })).der;
    }
    if (format === 'jws') {
      return (await this.#call('signJws', { keyId, data })).jws;
    }
    if (format !== 'cms') {
      throw new Error(`unknown signature format ${format}: 'der', 'cms' or 'jws'`);
    }
    const chain = certificates.flatMap(derCertificates);
    if (chain.length === 0) {
      throw new Error("a CMS signature needs the signer's certificate: pass { certificates: [leaf, ...issuers] }");
    }
    return (await this.#call('signCms', { keyId, data, chain: chain.map(toBase64) })).cms;
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

  /**
   * Replaces the key's share pair with a fresh one (same public key): the server refuses the old client share
   * afterwards, and the sealed record holds the new one.
   */
  refresh(keyId) {
    return this.#call('refresh', { keyId });
  }

  /**
   * A backup of the key in the SDK's backup format (what `mpc backup` writes; `mpc restore` and restore() read it),
   * wrapped under `passphrase` (Argon2id, AES-256-GCM). `userId` is written into its header; by default the token's
   * "sub". Keep the file off the server. It restores once.
   */
  async backup(keyId, { passphrase, userId = this.#userId, label = 'browser backup' } = {}) {
    if (!passphrase) {
      throw new Error('backup needs a passphrase');
    }
    if (!userId) {
      throw new Error('backup needs the user id (the token has no "sub"): pass { userId }');
    }
    return (await this.#call('backup', { keyId, userId, passphrase, label })).file;
  }

  /** backup() with the worker's time in milliseconds. */
  backupTimed(keyId, { passphrase, userId = this.#userId, label = 'browser backup' } = {}) {
    return this.#call('backup', { keyId, userId, passphrase, label });
  }

  /**
   * Restores a backup file (from backup() or `mpc backup`) onto this browser: it gets its own share pair, sealed in
   * IndexedDB, and the backup is used up (make a new one).
   */
  async restore(file, { passphrase, label = 'browser' } = {}) {
    const { milliseconds, ...key } = await this.#call('restore', { file: new Uint8Array(file), passphrase, label });
    return key;
  }

  /** restore() with the worker's time in milliseconds. */
  restoreTimed(file, { passphrase, label = 'browser' } = {}) {
    return this.#call('restore', { file: new Uint8Array(file), passphrase, label });
  }

  /**
   * New device, step 1 of an enrolment (the SDK's DeviceEnrolmentRequest; `mpc device request` on the CLI): returns
   * `{ request, code, expiresAt }`. Carry `request` to the existing device by any channel and show `code` here: the
   * user types it there. The request's private key is sealed in IndexedDB like a share (valid 15 minutes, so a reload
   * keeps it; one per user in a browser: a new request replaces it).
   */
  requestEnrolment(keyId) {
    return this.#call('requestEnrolment', { keyId });
  }

  /**
   * New device, step 2: opens the handover the existing device made (`mpc device handover` or handOver()) with the
   * pending request sealed in IndexedDB (also after a reload), once `code` (typed by the user from the EXISTING
   * device's screen) is the handover's code; then enrols this browser as a device of the key (its own share pair) and
   * seals the share. The request is used once: it is deleted once enrolled, when the handover is refused, or when it
   * has expired; a code that does not match keeps it, so the genuine handover can still be opened with its code.
   */
  async acceptHandover(handover, { code, label = 'browser' } = {}) {
    const { milliseconds, ...key } = await this.acceptHandoverTimed(handover, { code, label });
    return key;
  }

  /** acceptHandover() with the worker's time in milliseconds. */
  acceptHandoverTimed(handover, { code, label = 'browser' } = {}) {
    if (typeof code !== 'string' || !code.trim()) {
      return Promise.reject(new Error('acceptHandover needs the handover code the existing device shows: pass { code }'));
    }
    return this.#call('acceptHandover', { handover: String(handover).trim(), code: code.trim(), label });
  }

  /**
   * Existing device: `{ handover, code, until, completion }`. `handover` is the text for a new device's `request`, sealed
   * only if `code` (typed by the user from the NEW device's screen) is that request's code. The result's `code` is the
   * handover's: show it on this screen only (never send it with `handover`); the user types it on the new device, which
   * opens nothing without it (acceptHandover(handover, { code }), `mpc device enrol`). As `mpc device handover`
   * does, this browser then waits for the new device to enrol (polling the server's device list until `until`: the
   * request's 15 minutes, plus 5 for the other device's clock, plus 2, by this browser's clock) and refreshes its own pair, so the share inside the handover stops working:
   * `completion` resolves to the key with `{ refreshed: true, deviceId }` (the new device's id), or rejects when no new
   * device enrolled in time (then call refresh(keyId) here once it has). Progress stages "handover-wait",
   * "handover-enrolled", "refresh", "handover-done". With `{ wait: false }` there is no wait (`completion` is null):
   * call refresh(keyId) here after the enrolment. `signal` (an AbortSignal) stops the wait: `completion` then rejects
   * with the signal's reason (an AbortError by default), and the handover stays valid (call refresh(keyId) here once
   * the new device has enrolled); a signal already aborted refuses before anything is sealed.
   */
  async handOver(keyId, { request, code, userId = this.#userId, wait = true, signal }) {
    signal?.throwIfAborted();
    if (!userId) {
      throw new Error('handOver needs the user id (the token has no "sub"): pass { userId }');
    }
    const { handover, code: handoverCode, watch, until } = await this.#call('handOver', { keyId, request: String(request).trim(), code: String(code).trim(), userId, wait: Boolean(wait) });
    if (!wait) {
      return { handover, code: handoverCode, until: null, completion: null };
    }
    const waiting = this.#call('completeHandover', { keyId, watch, until });
    if (!signal) {
      return { handover, code: handoverCode, until, completion: waiting };
    }
    const cancel = () => this.#call('cancelHandover', { watch }).catch(() => {});
    signal.addEventListener('abort', cancel, { once: true });
    if (signal.aborted) {
      cancel();
    }
    const completion = waiting.then(
      key => { signal.removeEventListener('abort', cancel); return key; },
      error => { signal.removeEventListener('abort', cancel); throw signal.aborted ? signal.reason : error; });
    return { handover, code: handoverCode, until, completion };
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

  /** @internal for the browser tests; present only in builds with test hooks: the next refresh loses its reply. */
  loseNextReplyForTest() {
    return this.#call('loseNextReplyForTest');
  }

  /** @internal for the browser tests; present only in builds with test hooks: key confirmations never reach the server. */
  dropConfirmationsForTest() {
    return this.#call('dropConfirmationsForTest');
  }

  /** @internal for the browser tests; present only in builds with test hooks. */
  shareScalarHexForTest(keyId) {
    return this.#call('shareScalarHexForTest', { keyId });
  }

  /** @internal for the browser tests; present only in builds with test hooks: moves the worker's clock forward. */
  advanceClockForTest(minutes) {
    return this.#call('advanceClockForTest', { minutes });
  }

  /** @internal for the browser tests; present only in builds with test hooks: the sealed pending enrolment's private key. */
  pendingEnrolmentKeyHexForTest() {
    return this.#call('pendingEnrolmentKeyHexForTest');
  }

  /**
   * @internal for the browser tests; present only in builds with test hooks: how many secret arrays crossed between
   * the worker and .NET, and how many are not all zeros now ({ dotnet: { count, notZeroed }, worker: { ... } }).
   */
  secretCopiesForTest() {
    return this.#call('secretCopiesForTest');
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
/** The DER certificates in one item of sign()'s `certificates`: DER bytes as they are, PEM text split into its blocks. */
function derCertificates(item) {
  if (typeof item !== 'string') {
    return [new Uint8Array(item)];
  }
  return [...item.matchAll(/-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/g)]
    .map(([, body]) => Uint8Array.from(atob(body.replace(/\s+/g, '')), c => c.charCodeAt(0)));
}

/**
 * The user whose vault the signer opens: `userId`, else the token's "sub". No single-user fallback: a shared name for
 * "no user" would put every such user back into one vault, the collision the partition exists to prevent. A `userId`
 * other than the token's "sub" is refused: the server answers for the token's user, and its answers (which keys to
 * adopt, which pending share it holds) must not land in another user's vault.
 */
function userOf(token, userId) {
  const subject = subjectOf(token);
  if (userId !== undefined && userId !== null) {
    if (typeof userId !== 'string' || userId.length === 0) {
      throw new Error('userId must be a non-empty string');
    }
    if (subject !== undefined && subject !== userId) {
      throw new Error('userId is not the token\'s "sub": the signer opens the vault of the token\'s user only');
    }
    return userId;
  }
  if (typeof subject !== 'string' || subject.length === 0) {
    throw new Error('the token has no "sub": pass { userId } so the signer opens that user\'s own vault in this browser');
  }
  return subject;
}

/** The "sub" of a JWT bearer token, or undefined (the token is opaque to the signer otherwise). */
function subjectOf(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload.padEnd(payload.length + ((4 - (payload.length % 4)) % 4), '='))).sub;
  } catch {
    return undefined;
  }
}

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
