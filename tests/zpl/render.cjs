// Test-only: render a ZPL job read from stdin with zebrash (the zpl-renderer-js package, a Go WASM build),
// one PNG per ^XA ... ^XZ label. Usage: node render.cjs WIDTH_MM HEIGHT_MM DOTS_PER_MM < job.zpl
// Prints {"zebrash": its version, "labels": [base64 PNG, ...]} as JSON on stdout.
"use strict";
const { ready, ZEBRASH_VERSION } = require("zpl-renderer-js");

async function main() {
  const [width, height, dpmm] = process.argv.slice(2).map(Number);
  if (!(width > 0 && height > 0 && dpmm > 0)) {
    throw new Error("usage: node render.cjs WIDTH_MM HEIGHT_MM DOTS_PER_MM < job.zpl");
  }
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const { api } = await ready;
  const labels = await api.zplToBase64MultipleAsync(Buffer.concat(chunks).toString("utf8"), width, height, dpmm);
  // The Go runtime keeps the event loop alive: exit once stdout (a pipe, written asynchronously) has taken it all.
  await new Promise((resolve) => process.stdout.write(JSON.stringify({ zebrash: ZEBRASH_VERSION, labels }), resolve));
}

main().then(() => process.exit(0), (error) => {
  process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
