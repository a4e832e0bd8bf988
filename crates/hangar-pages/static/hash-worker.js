// Hashes files for the browser upload, off the page's thread. A file of up to WHOLE bytes is
// hashed by the browser's own SHA-256 (Web Crypto, native and fast; it takes the bytes at once,
// so only small files, and only where the page is a secure context); a larger one is streamed
// over slices with @noble/hashes (vendored), so it is never held whole. The library's URL comes
// in this worker's query (`?lib=`), as the page names its files by content hash.
"use strict";
importScripts(new URL(self.location.href).searchParams.get("lib"));

const SLICE = 8 * 1024 * 1024;
const WHOLE = 32 * 1024 * 1024;

function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
  return btoa(text);
}

self.onmessage = async (event) => {
  const { id, file } = event.data;
  try {
    if (file.size <= WHOLE && self.crypto && self.crypto.subtle) {
      const digest = await self.crypto.subtle.digest("SHA-256", await file.arrayBuffer());
      self.postMessage({ id, sha256: base64(new Uint8Array(digest)) });
      return;
    }
    const hash = self.nobleSha256.create();
    for (let at = 0; at < file.size; at += SLICE) {
      const chunk = new Uint8Array(await file.slice(at, at + SLICE).arrayBuffer());
      hash.update(chunk);
      self.postMessage({ id, hashed: Math.min(at + SLICE, file.size) });
    }
    self.postMessage({ id, sha256: base64(hash.digest()) });
  } catch (e) {
    self.postMessage({ id, error: String(e) });
  }
};
