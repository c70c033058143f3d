// TypeScript declarations for mpc-signer.js, the browser API of mpc-signer (README.md, "Signing in the browser").

export type Curve = 'p256' | 'p384' | 'secp256k1';

/**
 * What the worker reports while it works: "loading", "loaded", "vault-adopted" (with `adopted`: records of the earlier
 * single-user vault taken into this user's), "device-setup", "device-ready", "keygen", "keygen-done",
 * "refresh", "backup", "restore", "enrol", and after handOver(): "handover-wait" (with `until`), "handover-enrolled"
 * and "handover-done" (with `deviceId`).
 */
export interface Progress {
  stage: string;
  note?: string;
  /** device-setup: bits of the prime being searched and candidates tested so far. */
  bits?: number;
  tested?: number;
  /** device-ready: how long the device parameters took. */
  milliseconds?: number;
  keyId?: string;
  /** vault-adopted: how many records of the earlier single-user vault the server vouched for as this user's. */
  adopted?: number;
  /** handover-wait: when the wait for the new device ends (ISO 8601). */
  until?: string;
  /** handover-enrolled, handover-done: the new device's id. */
  deviceId?: string;
}

export interface KeyDescription {
  keyId: string;
  curve: Curve;
  /** The joint public key, "BEGIN PUBLIC KEY" PEM. */
  publicKeyPem: string;
}

export interface ServerKey extends KeyDescription {
  frozen: boolean;
  /** ISO 8601. */
  createdAt: string;
}

export interface OpenOptions {
  /** The signing service's gRPC-Web address, e.g. "https://signer.example:7444". */
  server: string | URL;
  /** The user's bearer token. */
  token: string;
  /**
   * The user whose vault (this browser's IndexedDB database of that user: shares, pending records, enrolment request,
   * device parameters) the signer opens; by default the token's "sub". Needed when the token has none (then the
   * caller vouches that it is the token's user); refused when it differs from the token's "sub".
   */
  userId?: string;
  /**
   * Optional: seal the shares this signer stores, and the device parameters, also under this passphrase
   * (PBKDF2-SHA256, 600 000 iterations, AES-256-GCM, inside the non-extractable key's layer); needed by
   * openStoredKeys() for shares sealed with one, and by open() once the device parameters are. Device parameters
   * stored without this layer are replaced by new ones (open() reports `created`).
   */
  passphrase?: string;
  onProgress?: (progress: Progress) => void;
  /** Where mpc-worker.js is; by default beside mpc-signer.js. */
  workerUrl?: string | URL;
}

export interface SignOptions {
  /** 'der' (default): DER ECDSA signature. 'cms': detached CMS SignedData, `openssl cms -verify -binary -content FILE`. */
  format?: 'der' | 'cms';
  /** For 'cms': the signer's certificate first, then its issuers; DER bytes or PEM text (a PEM text may hold several). */
  certificates?: Array<Uint8Array | ArrayBuffer | string>;
}

export interface BackupOptions {
  passphrase: string;
  /** Written into the backup's header; by default the bearer token's "sub". */
  userId?: string;
  /** A name for the backup at the server (default "browser backup"). */
  label?: string;
}

export interface RestoreOptions {
  passphrase: string;
  /** A name for this browser as a device (default "browser"). */
  label?: string;
}

export interface EnrolmentRequest {
  /** The request token ("mpc-enrol2:..."), to carry to the existing device by any channel. */
  request: string;
  /** The confirmation code to show on this screen; the user types it on the existing device. */
  code: string;
  /** When the request stops opening handovers (ISO 8601, 15 minutes after it was made). */
  expiresAt: string;
}

export interface AcceptHandoverOptions {
  /**
   * The handover's code, typed by the user from the EXISTING device's screen (`mpc device handover` shows it, or
   * handOver() returns it there): it proves the handover, and the key's public key in it, came from that device.
   */
  code: string;
  /** A name for this browser as a device (default "browser"). */
  label?: string;
}

export interface HandOverOptions {
  /** The new device's request token. */
  request: string;
  /** The code the user read from the NEW device's screen. */
  code: string;
  /** Written into the handover; by default the bearer token's "sub". */
  userId?: string;
  /** Default true: wait for the new device to enrol, then refresh this browser's pair (`completion`). */
  wait?: boolean;
  /**
   * Stops the wait: `completion` rejects with the signal's reason (an AbortError by default) and the handover stays
   * valid (call refresh(keyId) once the new device has enrolled). Already aborted: handOver rejects, nothing sealed.
   */
  signal?: AbortSignal;
}

export interface HandOverResult {
  /** The handover text ("mpc-handover3:..."), to carry to the new device. */
  handover: string;
  /**
   * The handover's code, to show on this screen only (never with `handover`): the user types it on the new device,
   * which opens nothing without it (acceptHandover(handover, { code }), `mpc device enrol --handover-code`).
   */
  code: string;
  /** When the wait ends (ISO 8601: the request's lifetime plus the allowed clock skew and two minutes, by this browser's clock); null with `wait: false`. */
  until: string | null;
  /**
   * Resolves once the new device has enrolled and this browser has refreshed its pair (the share inside the handover
   * then no longer works); rejects when no new device enrolled before `until` ("... call refresh(keyId) on this device
   * after the new device has enrolled") or the refresh failed. Null with `wait: false`: call refresh(keyId) yourself.
   */
  completion: Promise<KeyDescription & { refreshed: true; deviceId: string }> | null;
}

export declare class MpcSigner {
  /**
   * Starts the worker, connects, opens the user's own vault in this browser (adopting what the earlier single-user
   * vault, while there is one, holds of keys the server lists for this user), and loads (or creates once per user) the
   * device parameters. Rejects when there is no user (no `userId`, no "sub" in the token).
   */
  static open(options: OpenOptions): Promise<MpcSigner>;
  /** Whether open() created the device parameters, and how long that took. */
  readonly device: { created: boolean; milliseconds: number };
  /**
   * A new split key; its share is sealed in IndexedDB under a non-extractable AES-GCM key, as the key's pending record
   * before the server is asked to store the key and as its current record once it is stored. If the server's
   * confirmation goes unanswered ("... may or may not have been stored ...") or the page closes in between, the pending
   * record stays, and the next openStoredKeys() stores or finds the key.
   */
  createKey(options?: { curve?: Curve }): Promise<KeyDescription>;
  /**
   * Opens the shares stored in this browser, first settling a pending share left by a refresh, restore, enrolment or
   * key generation whose reply was lost (the server says which share it holds, or stores a key still awaiting its
   * confirmation); rejects naming the key when a stored record was changed.
   */
  openStoredKeys(): Promise<KeyDescription[]>;
  /**
   * Signs the bytes (a string is UTF-8 encoded), hashed with SHA-256 (SHA-384 on P-384): the DER ECDSA signature, or
   * with format 'cms' a detached CMS SignedData (CAdES-BES) carrying the certificates.
   */
  sign(keyId: string, bytes: Uint8Array | ArrayBuffer | string, options?: SignOptions): Promise<Uint8Array>;
  /** sign() with the worker's time in milliseconds. */
  signTimed(keyId: string, bytes: Uint8Array | ArrayBuffer | string): Promise<{ der: Uint8Array; milliseconds: number }>;
  /** Signatures of the key whose randomness is already prepared. */
  preparedRandomness(keyId: string): Promise<number>;
  /**
   * A fresh share pair for the key (same public key); the old client share is refused by the server afterwards. The
   * new share is sealed as a pending record before the server switches (crash-safe: a lost reply is settled later).
   */
  refresh(keyId: string): Promise<KeyDescription>;
  /**
   * A backup file in the SDK's format (what `mpc backup` writes, `mpc restore` reads), wrapped under the passphrase
   * (Argon2id t=3, 64 MiB, p=4; AES-256-GCM). userId defaults to the token's "sub". Restores once.
   */
  backup(keyId: string, options: BackupOptions): Promise<Uint8Array>;
  backupTimed(keyId: string, options: BackupOptions): Promise<{ file: Uint8Array; milliseconds: number }>;
  /** Restores a backup file (this API's or `mpc backup`'s) onto this browser; the backup is used up. */
  restore(file: Uint8Array | ArrayBuffer, options: RestoreOptions): Promise<KeyDescription>;
  restoreTimed(file: Uint8Array | ArrayBuffer, options: RestoreOptions): Promise<KeyDescription & { milliseconds: number }>;
  /**
   * New device: starts an enrolment; carry `request` to the existing device, show `code` here. Valid 15 minutes; its
   * private key is sealed in IndexedDB like a share, so a reload keeps it (one per user in a browser: a new request replaces it).
   */
  requestEnrolment(keyId: string): Promise<EnrolmentRequest>;
  /**
   * New device: opens the existing device's handover (`mpc device handover` or handOver()) with the pending request
   * (also after a reload) once `code` is the handover's code, enrols this browser, seals the share. The request is
   * used once; an expired or used one is refused with a message saying to call requestEnrolment(keyId) again. A code
   * that does not match is refused ("the handover code does not match this handover ...") and keeps the request.
   */
  acceptHandover(handover: string, options: AcceptHandoverOptions): Promise<KeyDescription>;
  acceptHandoverTimed(handover: string, options: AcceptHandoverOptions): Promise<KeyDescription & { milliseconds: number }>;
  /**
   * Existing device: the handover for a new device's request, if `code` is its code, and `completion`: this browser
   * waits for the new device to enrol and then refreshes its own pair, as `mpc device handover` does.
   */
  handOver(keyId: string, options: HandOverOptions): Promise<HandOverResult>;
  /** The user's keys as the server knows them. */
  listKeys(): Promise<ServerKey[]>;
  /** Stops the worker. */
  close(): void;
}

/** The openssl command that checks a DER signature of a document against the PEM public key. */
export declare function opensslCommands(files?: { documentFile?: string; signatureFile?: string; publicKeyFile?: string }): string;

export declare function toBase64(bytes: Uint8Array): string;
