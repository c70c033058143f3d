// The "issue a document" example: opens the signer for the server and token in the query string (?server=&token=;
// the server itself defaults to this page's origin), opens or creates a key, and signs what is typed.
// window.mpcExample exposes the signer to the browser tests.
import { MpcSigner, toBase64 } from './mpc-signer.js';

const params = new URLSearchParams(location.search);
const status = document.getElementById('status');
const bar = document.getElementById('progress');
const button = document.getElementById('sign');

function onProgress(progress) {
  status.textContent = progress.note ?? progress.stage;
  bar.hidden = !['device-setup', 'keygen', 'loading'].includes(progress.stage);
  if (progress.tested) {
    status.textContent = `creating this device's proof parameters: ${progress.tested} candidates tested`;
  }
}

async function main() {
  const signer = await MpcSigner.open({ server: params.get('server') ?? location.origin, token: params.get('token') ?? '', onProgress });
  let [key] = await signer.openStoredKeys();
  key ??= await signer.createKey({ curve: 'p256' });
  bar.hidden = true;
  document.getElementById('public-key').textContent = key.publicKeyPem;
  status.textContent = `key ${key.keyId} ready`;
  button.disabled = false;
  button.onclick = async () => {
    button.disabled = true;
    try {
      const der = await signer.sign(key.keyId, document.getElementById('document').value);
      document.getElementById('signature').textContent = toBase64(der);
      status.textContent = 'signed';
    } catch (e) {
      status.textContent = 'error: ' + e.message;
    } finally {
      button.disabled = false;
    }
  };
  window.mpcExample = { signer, key };
}

main().catch(e => {
  status.textContent = 'error: ' + e.message;
  window.mpcExample = { error: e.message };
});
