// On platforms storing files in S3, the submit form sends the file straight to the store through
// presigned URLs, as the playground client does: the web process never carries it. Each part goes
// with its CRC32, signed into its URL, for the store to check as it arrives; the server then checks
// the stored file's size and queues it. Where the platform keeps files itself, the form posts as usual.
(() => {
  const form = document.querySelector("form[data-direct-upload]");
  if (!form) return;
  const PARALLEL = 4;
  const MAX_PARTS = 1000;
  const partSize = Number(form.dataset.partSize);
  const threshold = Number(form.dataset.multipartThreshold);
  const csrfToken = form.querySelector('input[name="csrf_token"]').value;
  const status = form.querySelector("[data-upload-status]");
  const button = form.querySelector('[type="submit"]');

  const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });

  function crc32(bytes, previous = 0) {
    let crc = ~previous >>> 0;
    for (let i = 0; i < bytes.length; i += 1) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
    return ~crc >>> 0;
  }

  // Four bytes, big-endian, in base64: how S3 writes a CRC32.
  const crcBase64 = (crc) => btoa(String.fromCharCode(crc >>> 24, (crc >>> 16) & 255, (crc >>> 8) & 255, crc & 255));

  // One part up to the threshold, else parts of partSize, grown so that there are never more than MAX_PARTS.
  function plan(size) {
    if (size <= threshold) return [size];
    const part = Math.max(partSize, Math.ceil(size / MAX_PARTS));
    const sizes = [];
    for (let offset = 0; offset < size; offset += part) sizes.push(Math.min(part, size - offset));
    return sizes;
  }

  async function checksums(file, sizes) {
    const result = [];
    let offset = 0;
    for (const size of sizes) {
      let crc = 0;
      for (let at = offset; at < offset + size; at += 8 * 1024 * 1024) {
        const end = Math.min(at + 8 * 1024 * 1024, offset + size);
        crc = crc32(new Uint8Array(await file.slice(at, end).arrayBuffer()), crc);
      }
      result.push(crcBase64(crc));
      offset += size;
      status.textContent = `Checking the file… ${Math.round((100 * offset) / file.size)}%`;
    }
    return result;
  }

  async function postJson(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok && !(data.error && data.error.code === "direct_uploads_unavailable")) {
      throw new Error((data.error && data.error.message) || `The platform answered ${response.status}.`);
    }
    return data;
  }

  async function sendParts(file, parts) {
    const queue = [...parts];
    let sent = 0;
    async function sender() {
      while (queue.length) {
        const part = queue.shift();
        const response = await fetch(part.url, {
          method: "PUT",
          headers: part.headers,
          body: file.slice(part.offset, part.offset + part.size),
        });
        if (!response.ok) throw new Error(`The file store refused part ${part.number} (${response.status}).`);
        sent += part.size;
        status.textContent = `Uploading… ${Math.round((100 * sent) / file.size)}%`;
      }
    }
    await Promise.all(Array.from({ length: Math.min(PARALLEL, parts.length) }, sender));
  }

  form.addEventListener("submit", async (event) => {
    const file = form.querySelector('input[type="file"]').files[0];
    if (!file || file.size === 0) return; // the server says what is missing
    event.preventDefault();
    button.disabled = true;
    status.classList.remove("text-danger");
    let upload = null;
    try {
      const sizes = plan(file.size);
      const crcs = await checksums(file, sizes);
      upload = await postJson(form.dataset.directUpload, {
        file_name: file.name,
        size: file.size,
        description: form.querySelector('[name="description"]').value,
        parts: sizes.map((size, i) => ({ size, crc32: crcs[i] })),
      });
      if (upload.error) {
        form.submit(); // the platform keeps files itself: post the form
        return;
      }
      await sendParts(file, upload.parts);
      status.textContent = "Checking the upload…";
      const queued = await postJson(upload.complete_url, { size: file.size });
      upload = null;
      window.location.assign(queued.redirect);
    } catch (error) {
      if (upload && upload.cancel_url) {
        // Give back the pending place now rather than when the upload expires.
        fetch(upload.cancel_url, { method: "DELETE", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken } });
      }
      status.textContent = error.message;
      status.classList.add("text-danger");
      button.disabled = false;
    }
  });
})();
