// The share at rest, one IndexedDB database per user ("mpc-signer/user/" + SHA-256 of the user id, hex): a
// non-extractable AES-256-GCM key (a CryptoKey made with extractable: false: no script can export its bytes, though the
// browser keeps them in the profile's IndexedDB files) and, per key, the share sealed under it. The associated data
// names the user (the same hash), the record's kind and its name (key id), so a record moved to another key id or into
// another user's database, or a changed byte, fails to open. docs/key-custody.md ("In the browser") says what this does
// and does not protect.
//
// Why a database per user rather than the user id in every key name: two users of one browser profile (a shared
// computer) then share nothing, not the sealing key, not the device record (the ring-Pedersen trapdoor), not the one
// enrolment slot, not a pending record that settling would show to the wrong server account; every store and every
// query stays as it was, so no listing can pick up another user's record by a missed prefix. The user id is in the
// associated data as well as in the name, so the partition is cryptographic: a record copied into another user's
// database (even with that database's sealing key swapped for the first user's) fails its integrity check.

const DATABASE_PREFIX = 'mpc-signer/user/';
const VERSION = 1;
const WRAPPING = 'wrapping';
const SHARES = 'shares';
const DEVICE = 'device';
// A key generation, refresh, restore or enrolment seals its new share here before the server stores it or switches
// to it (see sealPendingShare).
const PENDING = 'pending';
// A new device's pending enrolment request (see sealPendingEnrolment).
const ENROLMENT = 'enrolment';
const FORMAT = 'mpc-signer/browser-seal/v2';
// The one database of the versions before the partition (IndexedDB version 3, FORMAT_V1, no user in the associated
// data): read only to adopt its records (adoptLegacyRecords), never written except to delete what was adopted.
const LEGACY_DATABASE = 'mpc-signer';
const FORMAT_V1 = 'mpc-signer/browser-seal/v1';

export class VaultError extends Error {}

// This worker's user: its database name and the user's tag in the associated data (selectUser).
let partition;

/**
 * Selects the user whose partition every later call reads and writes; must come first. The user id is hashed: the
 * database name and the associated data then hold neither an unbounded string nor characters a name cannot.
 */
export async function selectUser(userId) {
  if (typeof userId !== 'string' || userId.length === 0) {
    throw new VaultError('the vault needs the user id: open the signer with a token that has a "sub", or pass { userId }');
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(userId)));
  const tag = Array.from(digest, b => b.toString(16).padStart(2, '0')).join('');
  partition = { name: DATABASE_PREFIX + tag, tag };
}

function currentPartition() {
  if (!partition) {
    throw new VaultError('internal error: the vault was used before selectUser()');
  }
  return partition;
}

function database() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(currentPartition().name, VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      for (const [name, options] of [[WRAPPING], [SHARES, { keyPath: 'keyId' }], [DEVICE], [PENDING], [ENROLMENT]]) {
        if (!db.objectStoreNames.contains(name)) {
          db.createObjectStore(name, options);
        }
      }
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
      // One store: the action gets it; several (an array): the action gets the transaction, so its writes commit together.
      const request = action(Array.isArray(store) ? transaction : transaction.objectStore(store));
      transaction.oncomplete = () => resolve(request?.result);
      // The failed request's error: the transaction's own is set only once it aborts, after this event.
      transaction.onerror = event => reject(event.target?.error ?? transaction.error);
      transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted'));
    });
  } finally {
    db.close();
  }
}

/** The sealing key: made once per user in this browser profile, never extractable. */
async function sealingKey() {
  const stored = await run(WRAPPING, 'readonly', store => store.get('aes-gcm'));
  if (stored) {
    return stored;
  }
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  try {
    await run(WRAPPING, 'readwrite', store => store.add(key, 'aes-gcm'));
  } catch (e) {
    // Another tab added its key between our read and our add: its key may already seal records, so ours is dropped.
    if (e?.name !== 'ConstraintError') {
      throw e;
    }
  }
  return await run(WRAPPING, 'readonly', store => store.get('aes-gcm'));
}

const associatedData = (kind, name) => new TextEncoder().encode(`${FORMAT}\u0000${currentPartition().tag}\u0000${kind}\u0000${name}`);
// The passphrase layer's associated data has no user: that layer sits inside the outer one, which binds the whole
// inner ciphertext to the user, and so a record adopted from the legacy database keeps its passphrase layer as it is
// (re-sealing it would need the passphrase).
const passphraseAssociatedData = (kind, name) => new TextEncoder().encode(`${FORMAT_V1}\u0000${kind}-passphrase\u0000${name}`);
const legacyAssociatedData = (kind, name) => new TextEncoder().encode(`${FORMAT_V1}\u0000${kind}\u0000${name}`);

async function seal(kind, name, plaintext) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: associatedData(kind, name) }, await sealingKey(), plaintext);
  return { format: FORMAT, iv, sealed: new Uint8Array(sealed) };
}

async function open(kind, name, record, remedy = 'restore it from a backup') {
  if (record?.format !== FORMAT || !(record.iv instanceof Uint8Array) || !(record.sealed instanceof Uint8Array)) {
    throw new VaultError(`the stored ${kind} ${name} is not a sealed record of this version`);
  }
  try {
    return new Uint8Array(await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: record.iv, additionalData: associatedData(kind, name) }, await sealingKey(), record.sealed));
  } catch {
    throw new VaultError(`the stored ${kind} ${name} fails its integrity check (changed, corrupt, sealed in another browser profile, or moved from another user's vault): ${remedy}`);
  }
}

// The optional passphrase layer: the share is first sealed under a key derived from the user's passphrase
// (PBKDF2-HMAC-SHA256 through WebCrypto, OWASP's 600 000 iterations, 16-byte salt; Argon2id in interpreted .NET
// WebAssembly costs seconds per derivation), then under the profile's non-extractable key as before. A copy of the
// profile (the IndexedDB files with that key) then opens only to the passphrase-sealed layer.
const PASSPHRASE_KDF = 'PBKDF2-SHA256';
const PASSPHRASE_ITERATIONS = 600000;
// The record's KDF parameters are stored in clear beside the sealed share, unauthenticated: a planted record could
// otherwise keep the page deriving for as long as it asks before the passphrase is even checked.
const PASSPHRASE_MAX_ITERATIONS = 10000000;

async function passphraseKey(passphrase, salt, iterations, usage) {
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, ['deriveKey']);
  return await crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, material,
    { name: 'AES-GCM', length: 256 }, false, [usage]);
}

/** `secret` sealed as a `kind` record named `name`: under the profile's key, and first under `passphrase` if given. */
async function sealLayers(kind, name, secret, passphrase) {
  if (!passphrase) {
    return await seal(kind, name, secret);
  }
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const inner = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: passphraseAssociatedData(kind, name) },
    await passphraseKey(passphrase, salt, PASSPHRASE_ITERATIONS, 'encrypt'), secret));
  return { ...await seal(kind, name, inner), passphrase: { kdf: PASSPHRASE_KDF, iterations: PASSPHRASE_ITERATIONS, salt, iv } };
}

/** Opens what sealLayers() sealed: the profile's layer, then the passphrase layer if the record has one. */
async function openLayers(kind, name, record, passphrase, remedy) {
  const opened = await open(kind, name, record, remedy);
  const layer = record.passphrase;
  if (!layer) {
    return opened;
  }
  try {
    if (layer.kdf !== PASSPHRASE_KDF || !(layer.iterations >= PASSPHRASE_ITERATIONS) || !(layer.salt instanceof Uint8Array) || !(layer.iv instanceof Uint8Array)) {
      throw new VaultError(`the stored ${kind} ${name} has a passphrase layer this version does not accept`);
    }
    if (!Number.isSafeInteger(layer.iterations) || layer.iterations > PASSPHRASE_MAX_ITERATIONS) {
      throw new VaultError(`the stored ${kind} ${name} asks for ${layer.iterations} passphrase iterations, more than the ${PASSPHRASE_MAX_ITERATIONS} this version accepts (the record was changed)`);
    }
    if (!passphrase) {
      throw new VaultError(`the stored ${kind} ${name} is also sealed under a passphrase: open the signer with { passphrase }`);
    }
    try {
      return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: layer.iv, additionalData: passphraseAssociatedData(kind, name) },
        await passphraseKey(passphrase, layer.salt, layer.iterations, 'decrypt'), opened));
    } catch {
      throw new VaultError(`the stored ${kind} ${name} does not open with this passphrase (wrong passphrase, or the record was changed)`);
    }
  } finally {
    opened.fill(0);
  }
}

/** The share record (not yet stored) of `key`: the key's description in clear beside the sealed share. */
async function shareRecord(key, secret, passphrase) {
  return { keyId: key.keyId, curve: key.curve, ...(key.publicKeyPem ? { publicKeyPem: key.publicKeyPem } : {}), ...await sealLayers('share', key.keyId, secret, passphrase) };
}

// Pending shares: the browser's PendingKeyFile (src/Mpc.Client/KeyStore/PendingKeyFile.cs). A key generation, refresh,
// restore or enrolment seals its new share as the key's pending record (sealed exactly as a current record, same associated data)
// before the server switches to it; once the server confirms, the pending record moves over the current one in one
// transaction. If the reply is lost, the next open asks the server which share it holds (settlePending in the worker):
// the pending record becomes current, or, never taken, is kept aside, never deleted: under a name of its own
// ('unconfirmed:' + key id + ':' + 16 random hex digits), since an earlier one of the same key may still be the share
// the server ends up holding (a confirmation in flight may land later).
const pendingName = keyId => `pending:${keyId}`;
const unconfirmedName = keyId =>
  `unconfirmed:${keyId}:${Array.from(crypto.getRandomValues(new Uint8Array(8)), b => b.toString(16).padStart(2, '0')).join('')}`;

export async function sealPendingShare(key, secret, passphrase) {
  const record = await shareRecord(key, secret, passphrase);
  await run(PENDING, 'readwrite', store => store.put(record, pendingName(key.keyId)));
}

/** The pending records (from runs whose reply never came), not the ones kept aside. */
export async function listPendingShares() {
  const pending = IDBKeyRange.bound('pending:', 'pending:\uffff');
  return await run(PENDING, 'readonly', store => store.getAll(pending));
}

/**
 * The server holds the pending share of `key`: it replaces the key's current record, in one transaction, with the
 * key's public key added (outside the sealed bytes, as in every share record: sealed before the key was known).
 */
export async function confirmPendingShare(key) {
  await run([PENDING, SHARES], 'readwrite', transaction => {
    const pending = transaction.objectStore(PENDING);
    const read = pending.get(pendingName(key.keyId));
    read.onsuccess = () => {
      if (read.result) {
        transaction.objectStore(SHARES).put({ ...read.result, publicKeyPem: key.publicKeyPem });
        pending.delete(pendingName(key.keyId));
      }
    };
  });
}

/** The server never took the pending share: it is kept aside (a confirmation still in flight may land later). */
export async function setAsidePendingShare(keyId) {
  await run(PENDING, 'readwrite', store => {
    const read = store.get(pendingName(keyId));
    read.onsuccess = () => {
      if (read.result) {
        // add, not put: a name already taken fails the transaction rather than replacing a set-aside share.
        store.add(read.result, unconfirmedName(keyId));
        store.delete(pendingName(keyId));
      }
    };
  });
}

export async function listShares() {
  return await run(SHARES, 'readonly', store => store.getAll());
}

export async function openShare(record, passphrase) {
  return await openLayers('share', record.keyId, record, passphrase);
}

// A new device's pending enrolment request (the CLI's pending file, DeviceEnrolmentRequest.ExportSecret): sealed with
// the same layers as a share, one per user in a browser (a new request replaces it), deleted once the handover opened, was
// refused, or the request expired. Its key id and expiry sit in clear beside it; the expiry that counts is the one
// inside the sealed bytes, checked by the SDK.
const ENROLMENT_RECORD = 'request';
const ENROLMENT_REMEDY = 'call requestEnrolment(keyId) again';

export async function sealPendingEnrolment(keyId, expiresAt, secret, passphrase) {
  const record = { keyId, expiresAt, ...await sealLayers('enrolment', keyId, secret, passphrase) };
  await run(ENROLMENT, 'readwrite', store => store.put(record, ENROLMENT_RECORD));
}

/** The pending enrolment's secret bytes (the caller zeroes them), or null when none is stored. */
export async function openPendingEnrolment(passphrase) {
  const record = await run(ENROLMENT, 'readonly', store => store.get(ENROLMENT_RECORD));
  return record ? await openLayers('enrolment', record.keyId, record, passphrase, ENROLMENT_REMEDY) : null;
}

export async function deletePendingEnrolment() {
  await run(ENROLMENT, 'readwrite', store => store.delete(ENROLMENT_RECORD));
}

// The device record: this browser's ring-Pedersen trapdoor, under the same layers as a share. With the passphrase
// layer, a copy of the profile opens only to the passphrase-sealed layer: the trapdoor (λ, p̂, q̂) would let a
// server forge its range proofs at this browser's next key creation, refresh, restore or enrolment.
export async function sealDevice(secret, passphrase) {
  const record = await sealLayers('device', 'profile', secret, passphrase);
  await run(DEVICE, 'readwrite', store => store.put(record, 'profile'));
}

/**
 * The device parameters, or null when none are stored yet, or when `passphrase` is given but the stored record has
 * no passphrase layer (sealed before it was set, or before this version): a copy of the profile taken meanwhile
 * already holds that trapdoor, so it is not sealed again but replaced by new parameters (the caller makes them).
 * New or replaced only under the passphrase the stored shares already have, though: new parameters sealed under a
 * mistyped one would refuse the right one at every later open. (No device record beside passphrase-sealed shares is
 * what adopting the earlier single vault leaves: its device record is never adopted.)
 */
export async function openDevice(passphrase) {
  const record = await run(DEVICE, 'readonly', store => store.get('profile'));
  if (!record) {
    if (passphrase) {
      await requirePassphraseOfStoredShares(passphrase);
    }
    return null;
  }
  if (passphrase && !record.passphrase) {
    await requirePassphraseOfStoredShares(passphrase);
    return null;
  }
  return await openLayers('device', 'profile', record, passphrase);
}

/**
 * Refuses `passphrase` unless it opens one of the stored shares sealed under a passphrase (each try is one PBKDF2;
 * shares opened in other sessions may have other passphrases, so every one is tried before refusing). With no such
 * share there is nothing to check it against: it is this browser's first passphrase.
 */
async function requirePassphraseOfStoredShares(passphrase) {
  const layered = (await run(SHARES, 'readonly', store => store.getAll())).filter(record => record.passphrase);
  for (const record of layered) {
    try {
      (await openLayers('share', record.keyId, record, passphrase)).fill(0);
      return;
    } catch (e) {
      if (!(e instanceof VaultError)) {
        throw e;
      }
    }
  }
  if (layered.length > 0) {
    throw new VaultError('this passphrase opens none of the stored shares sealed under one (mistyped?); nothing was changed');
  }
}

// Migration from the single database of earlier versions ("mpc-signer", IndexedDB version 3, associated data without
// the user). Its records belong to whichever user stored them, which it does not say; they are adopted into the
// partition of the user opening the signer only when the server, asked with that user's token, vouches for them:
// - a share record: the server lists its key id for this user with the same public key (the record's, in clear);
// - a pending or set-aside record (`pending:KEY`, `unconfirmed:KEY:RANDOM`) and the enrolment request: the server
//   lists KEY for this user (they carry no public key; a key generation the server never stored is not listed, and
//   its pending record stays behind), and no legacy share record of KEY holds another public key;
// - the device record (the ring-Pedersen trapdoor): never; it may have served several users, and new parameters cost
//   one device setup.
// An adopted record is opened with the legacy sealing key and legacy associated data, sealed again under this user's
// key and associated data (its passphrase layer untouched), added to this user's database without replacing anything
// there, and only then deleted from the legacy database: a failure in between leaves a copy in both, never none.
// Anything else stays where it is (another user adopts it at their open); once no share, pending, set-aside or
// enrolment record is left, the legacy database is deleted with its sealing key and device record.

/** The legacy database if it exists (opening must not create it), or null. */
function legacyDatabase() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(LEGACY_DATABASE);
    // Fires only for a database that does not exist yet: aborting leaves none behind.
    request.onupgradeneeded = () => request.transaction.abort();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => (request.error?.name === 'AbortError' ? resolve(null) : reject(request.error));
  });
}

const requestResult = request => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});

/** The legacy records that a user could adopt, with the legacy sealing key; null when there is no legacy database. */
async function readLegacy() {
  const db = await legacyDatabase();
  if (!db) {
    return null;
  }
  try {
    const stores = [WRAPPING, SHARES, PENDING, ENROLMENT].filter(name => db.objectStoreNames.contains(name));
    const transaction = db.transaction(stores, 'readonly');
    const read = (store, action) => (stores.includes(store) ? requestResult(action(transaction.objectStore(store))) : undefined);
    const [key, shares, pendingNames, pending, enrolment] = await Promise.all([
      read(WRAPPING, store => store.get('aes-gcm')),
      read(SHARES, store => store.getAll()),
      read(PENDING, store => store.getAllKeys()),
      read(PENDING, store => store.getAll()),
      read(ENROLMENT, store => store.get(ENROLMENT_RECORD)),
    ]);
    return {
      key,
      shares: shares ?? [],
      pending: (pendingNames ?? []).map((name, i) => [name, pending[i]]),
      enrolment,
    };
  } finally {
    db.close();
  }
}

const samePem = (a, b) => typeof a === 'string' && typeof b === 'string' && a.replace(/\s+/g, '') === b.replace(/\s+/g, '');

/**
 * Adopts the legacy records this user's server vouches for (the rule above). `listServerKeys` (the server's
 * ListKeys for this user's token) is called only when the legacy database holds something to adopt. Returns the
 * names adopted and how many records were left for other users.
 */
export async function adoptLegacyRecords(listServerKeys) {
  const legacy = await readLegacy();
  if (!legacy) {
    return { adopted: [], left: 0 };
  }
  const candidates = legacy.shares.length + legacy.pending.length + (legacy.enrolment ? 1 : 0);
  const adopted = [];
  if (candidates > 0 && legacy.key) {
    const serverKeys = new Map((await listServerKeys()).map(key => [key.keyId, key]));
    const listed = keyId => typeof keyId === 'string' && serverKeys.has(keyId);
    const moves = [];
    // A key id the server lists for this user beside a stored public key that is not the server's: not this user's
    // key after all, so neither its share nor its pending records are adopted.
    const disowned = new Set();
    for (const record of legacy.shares) {
      if (!listed(record.keyId)) {
        continue;
      }
      if (samePem(serverKeys.get(record.keyId).publicKeyPem, record.publicKeyPem)) {
        moves.push({ store: SHARES, name: record.keyId, kind: 'share', record });
      } else {
        disowned.add(record.keyId);
      }
    }
    for (const [name, record] of legacy.pending) {
      const ownName = name === pendingName(record?.keyId) || (typeof name === 'string' && name.startsWith(`unconfirmed:${record?.keyId}:`));
      if (ownName && listed(record.keyId) && !disowned.has(record.keyId)) {
        moves.push({ store: PENDING, name, kind: 'share', record });
      }
    }
    if (legacy.enrolment && listed(legacy.enrolment.keyId) && !disowned.has(legacy.enrolment.keyId)) {
      moves.push({ store: ENROLMENT, name: ENROLMENT_RECORD, kind: 'enrolment', record: legacy.enrolment });
    }
    for (const move of moves) {
      if (await adoptOne(legacy.key, move)) {
        adopted.push(move);
      }
    }
    await deleteLegacyRecords(adopted);
  }
  const left = await deleteLegacyDatabaseIfDone();
  return { adopted: adopted.map(({ store, name }) => `${store}/${name}`), left };
}

/**
 * One legacy record sealed again for this user and added to this user's database. False, with nothing written, when
 * its outer layer does not open under the legacy key (changed or planted: left for whoever can explain it) or this
 * user's database already holds a record of that name (never replaced: it may be the newer share).
 */
async function adoptOne(legacyKey, { store, name, kind, record }) {
  if (record?.format !== FORMAT_V1 || !(record.iv instanceof Uint8Array) || !(record.sealed instanceof Uint8Array)) {
    return false;
  }
  let opened;
  try {
    opened = new Uint8Array(await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: record.iv, additionalData: legacyAssociatedData(kind, record.keyId) }, legacyKey, record.sealed));
  } catch {
    return false;
  }
  let resealed;
  try {
    resealed = { ...record, ...await seal(kind, record.keyId, opened) };
  } finally {
    opened.fill(0);
  }
  try {
    // add, not put: an existing record of this user is never replaced by an adopted one.
    await run(store, 'readwrite', target => (store === SHARES ? target.add(resealed) : target.add(resealed, name)));
    return true;
  } catch (e) {
    if (e?.name === 'ConstraintError') {
      return false;
    }
    throw e;
  }
}

async function deleteLegacyRecords(adopted) {
  if (adopted.length === 0) {
    return;
  }
  const db = await legacyDatabase();
  if (!db) {
    return;
  }
  try {
    const transaction = db.transaction([...new Set(adopted.map(move => move.store))], 'readwrite');
    for (const { store, name } of adopted) {
      transaction.objectStore(store).delete(name);
    }
    await new Promise((resolve, reject) => {
      transaction.oncomplete = resolve;
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted'));
    });
  } finally {
    db.close();
  }
}

/** Deletes the legacy database once nobody can adopt anything from it; how many records it still holds for others. */
async function deleteLegacyDatabaseIfDone() {
  const legacy = await readLegacy();
  if (!legacy) {
    return 0;
  }
  const left = legacy.shares.length + legacy.pending.length + (legacy.enrolment ? 1 : 0);
  if (left === 0) {
    await new Promise((resolve, reject) => {
      const request = indexedDB.deleteDatabase(LEGACY_DATABASE);
      request.onsuccess = resolve;
      request.onerror = () => reject(request.error);
      // Another tab of an older version holds it open: it is deleted once that tab closes.
      request.onblocked = resolve;
    });
  }
  return left;
}
