// The "issue a document" example: opens the signer for this page's own server with the token in the URL's fragment
// (#token=...; a fragment is never sent to a server nor in a Referer, and it is removed from the address bar and the
// history entry at once), opens or creates a key, and signs what is typed.
// window.mpcExample exposes the signer to the browser tests.
import { MpcSigner, toBase64 } from './mpc-signer.js';

const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
history.replaceState(null, '', location.pathname);
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
  const signer = await MpcSigner.open({ server: location.origin, token, onProgress });
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
