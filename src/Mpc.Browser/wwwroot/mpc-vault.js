// The share at rest: IndexedDB database "mpc-signer" holds a non-extractable AES-256-GCM key (a CryptoKey made with
// extractable: false: no script can export its bytes, though the browser keeps them in the profile's IndexedDB files)
// and, per key, the share sealed under it. The associated data names the record (format, version, key id), so a record moved to another key id or a
// changed byte fails to open. docs/key-custody.md ("In the browser") says what this does and does not protect.

const DATABASE = 'mpc-signer';
const VERSION = 1;
const WRAPPING = 'wrapping';
const SHARES = 'shares';
const DEVICE = 'device';
const FORMAT = 'mpc-signer/browser-seal/v1';

export class VaultError extends Error {}

function database() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore(WRAPPING);
      db.createObjectStore(SHARES, { keyPath: 'keyId' });
      db.createObjectStore(DEVICE);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(store, mode, action) {
  const db = await database();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = db.transaction(store, mode);
      const request = action(transaction.objectStore(store));
      transaction.oncomplete = () => resolve(request?.result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted'));
    });
  } finally {
    db.close();
  }
}

/** The sealing key: made once per browser profile, never extractable. */
async function sealingKey() {
  const stored = await run(WRAPPING, 'readonly', store => store.get('aes-gcm'));
  if (stored) {
    return stored;
  }
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  await run(WRAPPING, 'readwrite', store => store.add(key, 'aes-gcm'));
  // Another tab may have added its key first (add fails then): use whichever is stored.
  return await run(WRAPPING, 'readonly', store => store.get('aes-gcm'));
}

const associatedData = (kind, name) => new TextEncoder().encode(`${FORMAT}\u0000${kind}\u0000${name}`);

async function seal(kind, name, plaintext) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: associatedData(kind, name) }, await sealingKey(), plaintext);
  return { format: FORMAT, iv, sealed: new Uint8Array(sealed) };
}

async function open(kind, name, record) {
  if (record?.format !== FORMAT || !(record.iv instanceof Uint8Array) || !(record.sealed instanceof Uint8Array)) {
    throw new VaultError(`the stored ${kind} ${name} is not a sealed record of this version`);
  }
  try {
    return new Uint8Array(await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: record.iv, additionalData: associatedData(kind, name) }, await sealingKey(), record.sealed));
  } catch {
    throw new VaultError(`the stored ${kind} ${name} fails its integrity check (changed, corrupt, or sealed in another browser profile): restore it from a backup`);
  }
}

// The optional passphrase layer: the share is first sealed under a key derived from the user's passphrase
// (PBKDF2-HMAC-SHA256 through WebCrypto, OWASP's 600 000 iterations, 16-byte salt; Argon2id in interpreted .NET
// WebAssembly costs seconds per derivation), then under the profile's non-extractable key as before. A copy of the
// profile (the IndexedDB files with that key) then opens only to the passphrase-sealed layer.
const PASSPHRASE_KDF = 'PBKDF2-SHA256';
const PASSPHRASE_ITERATIONS = 600000;

async function passphraseKey(passphrase, salt, iterations, usage) {
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, ['deriveKey']);
  return await crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, material,
    { name: 'AES-GCM', length: 256 }, false, [usage]);
}

export async function sealShare(key, secret, passphrase) {
  let inner = secret;
  let layer;
  if (passphrase) {
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const iv = crypto.getRandomValues(new Uint8Array(12));
    inner = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: associatedData('share-passphrase', key.keyId) },
      await passphraseKey(passphrase, salt, PASSPHRASE_ITERATIONS, 'encrypt'), secret));
    layer = { kdf: PASSPHRASE_KDF, iterations: PASSPHRASE_ITERATIONS, salt, iv };
  }
  const record = { keyId: key.keyId, curve: key.curve, publicKeyPem: key.publicKeyPem, ...await seal('share', key.keyId, inner) };
  if (layer) {
    record.passphrase = layer;
  }
  await run(SHARES, 'readwrite', store => store.put(record));
}

export async function listShares() {
  return await run(SHARES, 'readonly', store => store.getAll());
}

export async function openShare(record, passphrase) {
  const opened = await open('share', record.keyId, record);
  const layer = record.passphrase;
  if (!layer) {
    return opened;
  }
  try {
    if (layer.kdf !== PASSPHRASE_KDF || !(layer.iterations >= PASSPHRASE_ITERATIONS) || !(layer.salt instanceof Uint8Array) || !(layer.iv instanceof Uint8Array)) {
      throw new VaultError(`the stored share ${record.keyId} has a passphrase layer this version does not accept`);
    }
    if (!passphrase) {
      throw new VaultError(`the stored share ${record.keyId} is also sealed under a passphrase: open the signer with { passphrase }`);
    }
    try {
      return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: layer.iv, additionalData: associatedData('share-passphrase', record.keyId) },
        await passphraseKey(passphrase, layer.salt, layer.iterations, 'decrypt'), opened));
    } catch {
      throw new VaultError(`the stored share ${record.keyId} does not open with this passphrase (wrong passphrase, or the record was changed)`);
    }
  } finally {
    opened.fill(0);
  }
}

export async function sealDevice(secret) {
  const record = await seal('device', 'profile', secret);
  await run(DEVICE, 'readwrite', store => store.put(record, 'profile'));
}

/** The device parameters, or null when none are stored yet. */
export async function openDevice() {
  const record = await run(DEVICE, 'readonly', store => store.get('profile'));
  return record ? await open('device', 'profile', record) : null;
}
