// The signer's Web Worker: runs the .NET runtime (the SDK compiled to WebAssembly) off the page's thread, and keeps
// the shares at rest in IndexedDB sealed under a non-extractable AES-GCM key (./mpc-vault.js). Messages in:
// { id, op, args }; out: { id, result } or { id, error }, and { progress: { stage, ... } } while work runs.
import { dotnet } from './_framework/dotnet.js';
import * as bigint from './mpc-bigint.js';
import * as vault from './mpc-vault.js';

const progress = (stage, detail = {}) => postMessage({ progress: { stage, ...detail } });

let exportsPromise;
let benchmarks;
function runtime() {
  exportsPromise ??= (async () => {
    progress('loading', { note: 'starting the .NET runtime' });
    const { setModuleImports, getAssemblyExports, getConfig } = await dotnet.create();
    setModuleImports('mpc-bigint', bigint);
    setModuleImports('mpc-custody', custody);
    const assembly = await getAssemblyExports(getConfig().mainAssemblyName);
    progress('loaded');
    benchmarks = assembly.Mpc.Browser.BrowserBenchmarks;
    const signer = assembly.Mpc.Browser.BrowserSigner;
    secretCopiesForTest = typeof signer.SecretCopiesForTest === 'function' ? [] : undefined;
    return signer;
  })();
  return exportsPromise;
}

globalThis.mpcPrimeProgress = (bits, tested) => progress('device-setup', { bits, tested });

// The passphrase of the optional second layer over the shares and the device parameters (mpc-vault.js), for this
// worker's life; a JS string, which cannot be wiped.
let sharePassphrase;

// Secret bytes cross between this worker and .NET only through a view of the .NET array during one synchronous call
// (BrowserSecrets.cs), never as a marshalled byte array: the runtime would copy that into a buffer on the WebAssembly
// heap and free it without zeroing. One crossing at a time: each is made and taken in one synchronous stretch.
let toDotnet; // the secret handToDotnet is passing to a .NET call, which copies it into its own array
let fromDotnet; // the copy of the secret .NET handed over last, until takeFromDotnet takes it
// Test builds only (the .NET side has SecretCopiesForTest): every secret array this worker held at the boundary.
let secretCopiesForTest;

/**
 * What the .NET side calls (BrowserSecrets.cs, BrowserVault.cs): take or give a secret; seal a new share (handed over
 * just before) as its key's pending record before the server switches; seal, or delete, a new device's pending
 * enrolment request.
 */
const custody = {
  receiveSecret(view) {
    fromDotnet?.fill(0);
    fromDotnet = recordForTest(view.slice());
  },
  secretLength() {
    return toDotnet?.length ?? -1;
  },
  copySecretTo(view) {
    view.set(toDotnet);
  },
  async storePending(keyId, curve) {
    await withSecret(takeFromDotnet(), secret => vault.sealPendingShare({ keyId, curve }, secret, sharePassphrase));
  },
  async storePendingEnrolment(keyId, expiresAt) {
    await withSecret(takeFromDotnet(), secret => vault.sealPendingEnrolment(keyId, expiresAt, secret, sharePassphrase));
  },
  async destroyPendingEnrolment() {
    await vault.deletePendingEnrolment();
  },
};

function recordForTest(secret) {
  secretCopiesForTest?.push(secret);
  return secret;
}

/** The secret .NET has just handed over (BrowserSecrets.Hand); the caller zeroes it. */
function takeFromDotnet() {
  const secret = fromDotnet;
  fromDotnet = undefined;
  if (!secret) {
    throw new Error('internal error: the .NET side handed over no secret');
  }
  return secret;
}

/** Runs `use` on `secret`, zeroing it after. */
async function withSecret(secret, use) {
  try {
    return await use(secret);
  } finally {
    secret.fill(0);
  }
}

/**
 * Calls .NET (`call`, synchronously) with `secret` to take (BrowserSecrets.Take copies it into .NET's own array
 * during the call); `secret` is zeroed as soon as the call returns, a promise for an async call included.
 */
function handToDotnet(secret, call) {
  toDotnet = recordForTest(secret);
  try {
    return call();
  } finally {
    toDotnet = undefined;
    secret.fill(0);
  }
}

/**
 * Unseals this browser's pending enrolment and makes `call` with it handed to .NET (handToDotnet), zeroing this
 * worker's copy. Rejects when none is stored.
 */
async function withPendingEnrolment(call) {
  const secret = await vault.openPendingEnrolment(sharePassphrase);
  if (!secret) {
    throw new Error('no enrolment request is pending in this browser (it was used by an earlier acceptHandover(), expired, or never made): call requestEnrolment(keyId), then have the existing device hand over to the new request');
  }
  return await handToDotnet(secret, call);
}

/**
 * Settles the pending records left by runs whose reply never came: the SDK asks the server which share it holds
 * (BrowserSigner.SettlePending). Held: the pending record becomes current (and the key is open); not held: set aside.
 * The keys settled to their pending share.
 */
async function settlePending(signer) {
  const settled = [];
  for (const record of await vault.listPendingShares()) {
    const secret = await vault.openShare(record, sharePassphrase);
    const current = await handToDotnet(secret, () => signer.SettlePending());
    if (current) {
      const key = JSON.parse(current);
      await vault.confirmPendingShare(key);
      settled.push(key);
    } else {
      await vault.setAsidePendingShare(record.keyId);
    }
  }
  return settled;
}

/** After the server confirmed a new share: the pending record becomes the key's current one. */
async function confirmOpenShare(key) {
  await vault.confirmPendingShare(key);
}

const operations = {
  /**
   * Connects, selects the user's partition of the vault (before anything is read or sealed), and adopts the records
   * of the earlier single-user vault that the server lists for this user (vault.adoptLegacyRecords).
   */
  async connect({ server, token, userId, passphrase }) {
    const signer = await runtime();
    await vault.selectUser(userId);
    signer.Connect(server, token);
    sharePassphrase = passphrase || undefined;
    const { adopted } = await vault.adoptLegacyRecords(async () => JSON.parse(await signer.ListKeys()));
    if (adopted.length > 0) {
      progress('vault-adopted', { adopted: adopted.length });
    }
    return true;
  },

  /**
   * Loads the sealed device parameters, or creates and seals them (the slow step: prime search): once per user of a
   * browser profile, and again when a passphrase is given but the stored ones lack its layer (vault.openDevice).
   */
  async setupDevice() {
    const signer = await runtime();
    const stored = await vault.openDevice(sharePassphrase);
    if (stored) {
      handToDotnet(stored, () => signer.ImportDevice());
      return { created: false, milliseconds: 0 };
    }
    progress('device-setup', { note: 'creating this device\'s proof parameters (once per user of this browser profile)' });
    const milliseconds = signer.SetupDevice();
    signer.ExportDevice();
    await withSecret(takeFromDotnet(), secret => vault.sealDevice(secret, sharePassphrase));
    progress('device-ready', { milliseconds });
    return { created: true, milliseconds };
  },

  async createKey({ curve }) {
    const signer = await runtime();
    progress('keygen', { note: 'generating the key with the server' });
    // The share was sealed as the key's pending record before the server stored the key (BrowserSigner.CreateKey).
    const key = JSON.parse(await signer.CreateKey(curve ?? 'p256'));
    await confirmOpenShare(key);
    progress('keygen-done', { keyId: key.keyId });
    return key;
  },

  /** Opens every stored share (after a reload); a record that fails its check is an error naming the key. */
  async openStoredKeys() {
    const signer = await runtime();
    await settlePending(signer);
    const keys = [];
    for (const record of await vault.listShares()) {
      const secret = await vault.openShare(record, sharePassphrase);
      keys.push(JSON.parse(handToDotnet(secret, () => signer.OpenShare())));
    }
    return keys;
  },

  /** A fresh share pair for the key (same public key); the new share replaces the sealed record. */
  async refresh({ keyId }) {
    const signer = await runtime();
    progress('refresh', { keyId });
    // An earlier refresh whose reply was lost may have completed: then its share is this key's current one.
    const completedEarlier = (await settlePending(signer)).find(key => key.keyId === keyId);
    if (completedEarlier) {
      return completedEarlier;
    }
    const key = JSON.parse(await signer.Refresh(keyId));
    await confirmOpenShare(key);
    return key;
  },

  /** The SDK's backup file (Argon2id + AES-256-GCM under the passphrase): the same bytes mpc restore reads. */
  async backup({ keyId, userId, passphrase, label }) {
    const signer = await runtime();
    progress('backup', { keyId });
    const started = performance.now();
    const file = Uint8Array.from(atob(await signer.CreateBackup(keyId, userId, passphrase, label ?? 'browser backup')), c => c.charCodeAt(0));
    return { file, milliseconds: performance.now() - started };
  },

  /** Restores a backup file onto this browser (it is used up) and seals the new share. */
  async restore({ file, passphrase, label }) {
    const signer = await runtime();
    progress('restore');
    const started = performance.now();
    await settlePending(signer);
    const key = JSON.parse(await signer.RestoreBackup(Array.from(file), passphrase, label ?? 'browser'));
    await confirmOpenShare(key);
    return { ...key, milliseconds: performance.now() - started };
  },

  /** New device: an enrolment request for the key, its private part sealed in IndexedDB; { request, code, expiresAt }. */
  async requestEnrolment({ keyId }) {
    return JSON.parse(await (await runtime()).RequestEnrolment(keyId));
  },

  /** New device: opens the existing device's handover (if `code` is its code) with the sealed pending request, enrols this browser and seals its share. */
  async acceptHandover({ handover, code, label }) {
    const signer = await runtime();
    progress('enrol');
    const started = performance.now();
    await settlePending(signer);
    const key = JSON.parse(await withPendingEnrolment(() => signer.AcceptHandover(handover, code, label ?? 'browser')));
    await confirmOpenShare(key);
    return { ...key, milliseconds: performance.now() - started };
  },

  /** Existing device: the handover text for a request whose code the user typed, and the handover's code; { handover, code, watch, until } when waiting. */
  async handOver({ keyId, request, code, userId, wait }) {
    return JSON.parse(await (await runtime()).HandOver(keyId, request, code, userId, wait));
  },

  /**
   * Existing device, after handOver: waits for the new device to enrol (the server's device list, polled), then
   * refreshes this browser's pair through refresh() (pending record first), so the handed-over share stops working.
   */
  /** Stops completeHandover's wait for `watch` (the page's AbortSignal); the handover text stays valid. */
  async cancelHandover({ watch }) {
    (await runtime()).CancelWaitForNewDevice(watch);
    return null;
  },

  async completeHandover({ keyId, watch, until }) {
    const signer = await runtime();
    progress('handover-wait', { keyId, until });
    const deviceId = await signer.WaitForNewDevice(watch);
    if (!deviceId) {
      throw new Error(`no new device enrolled for key ${keyId} before its enrolment request expired (${until}): call refresh(keyId) on this device after the new device has enrolled`);
    }
    progress('handover-enrolled', { keyId, deviceId });
    const key = await operations.refresh({ keyId });
    progress('handover-done', { keyId, deviceId });
    return { ...key, refreshed: true, deviceId };
  },

  async sign({ keyId, data }) {
    const signer = await runtime();
    const started = performance.now();
    const der = Uint8Array.from(atob(await signer.Sign(keyId, Array.from(data))), c => c.charCodeAt(0));
    return { der, milliseconds: performance.now() - started };
  },

  async signJws({ keyId, data }) {
    return { jws: await (await runtime()).SignJws(keyId, Array.from(data)) };
  },

  async signCms({ keyId, data, chain }) {
    const signer = await runtime();
    const cms = Uint8Array.from(atob(await signer.SignCms(keyId, Array.from(data), chain.join(','))), c => c.charCodeAt(0));
    return { cms };
  },

  async preparedRandomness({ keyId }) {
    return (await runtime()).PreparedRandomness(keyId);
  },

  async listKeys() {
    return JSON.parse(await (await runtime()).ListKeys());
  },

  /** Median milliseconds of one EC scalar multiplication in WebAssembly (docs/benchmarks.md, "Browser"). */
  async scalarMultiplyMs({ curve, runs }) {
    await runtime();
    return benchmarks.ScalarMultiply(curve ?? 'p256', runs ?? 9);
  },

  // Test hooks, present only in builds with test hooks (BrowserSigner.cs, MPC_BROWSER_TEST_HOOKS).
  async loseNextReplyForTest() {
    return callTestHook(await runtime(), 'LoseNextReplyForTest') ?? true;
  },

  async dropConfirmationsForTest() {
    return callTestHook(await runtime(), 'DropConfirmationsForTest') ?? true;
  },

  async advanceClockForTest({ minutes }) {
    return callTestHook(await runtime(), 'AdvanceClockForTest', minutes) ?? true;
  },

  async shareScalarHexForTest({ keyId }) {
    return callTestHook(await runtime(), 'ShareScalarHexForTest', keyId);
  },

  async pendingEnrolmentKeyHexForTest() {
    const signer = await runtime();
    return await withPendingEnrolment(() => callTestHook(signer, 'PendingEnrolmentKeyHexForTest'));
  },

  /**
   * Every secret array that crossed between this worker and .NET so far, as they are now: { dotnet: { count,
   * notZeroed } (the .NET arrays), worker: { count, notZeroed } (this worker's copies) }.
   */
  async secretCopiesForTest() {
    const dotnetSide = JSON.parse(callTestHook(await runtime(), 'SecretCopiesForTest'));
    const copies = secretCopiesForTest ?? [];
    return { dotnet: dotnetSide, worker: { count: copies.length, notZeroed: copies.filter(c => c.some(b => b !== 0)).length } };
  },
};

/** Calls a test hook of the .NET side; a build without test hooks has none. */
function callTestHook(signer, name, ...args) {
  if (typeof signer[name] !== 'function') {
    throw new Error('this build has no test hooks');
  }
  return signer[name](...args);
}

onmessage = async ({ data: { id, op, args } }) => {
  try {
    const operation = operations[op];
    if (!operation) {
      throw new Error(`unknown operation ${op}`);
    }
    postMessage({ id, result: await operation(args ?? {}) });
  } catch (e) {
    postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
};
