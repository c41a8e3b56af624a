// Runs every trust vector (docs/vectors/trust-vectors.json, §10 of docs/trust-format.md) through the independent
// verifier of trust.mjs and prints a JSON report of every mismatch (expected vs got).
// Usage: node run-trust-vectors.mjs [path/to/trust-vectors.json]
// Exit 0 when every check matches, 1 when any does not, 2 when the vectors file cannot be read.

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import {
  MAX_BUNDLE_BYTES, PAYLOAD_TYPES, TUF_PAYLOAD_TYPE, TrustError, admitEndorsement, admitRecall, attestation, buildChain,
  checkRevocation, installTrustRoot, keyId, loadTrustRoot, openBundle, pae, producerMatches, readEnrolment, readStatement,
  recallBody, sha256, standing, updateTrustRoot, verifyStatement,
} from "./trust.mjs";
import { canonicalJson } from "./verify.mjs";

const DEFAULT_VECTORS = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "docs", "vectors",
  "trust-vectors.json");
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex"); // RFC 8410 wrapping of a seed

/** JSON with every object's members sorted, so that expected and got compare whatever their member order. */
function stable(value) {
  if (Array.isArray(value)) return `[${value.map(stable).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${stable(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

class Report {
  constructor(vectorsPath) {
    Object.assign(this, { vectors: vectorsPath, cases_total: 0, cases_checked: 0, intermediates_checked: 0, mismatches: [] });
  }

  check(section, title, what, expected, got) {
    if (stable(expected) !== stable(got)) this.mismatches.push({ section, title, check: what, expected, got });
  }

  guard(section, title, body) {
    try {
      body();
    } catch (error) {
      this.mismatches.push({ section, title, check: "no exception", expected: null, got: `${error.name}: ${error.message}` });
    }
  }
}

function seedKeys(seedHex) {
  const privateKey = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.from(seedHex, "hex")]),
    format: "der", type: "pkcs8" });
  const raw = crypto.createPublicKey(privateKey).export({ format: "der", type: "spki" }).subarray(12);
  return { privateKey, raw };
}

function checkKeys(vectors, report) {
  for (const [name, entry] of Object.entries(vectors.keys)) {
    report.guard("keys", name, () => {
      const { raw } = seedKeys(entry.private_seed);
      report.check("keys", name, "public_key", entry.public_key, raw.toString("hex"));
      report.check("keys", name, "key_id", entry.key_id, keyId(raw));
      report.intermediates_checked += 2;
    });
  }
  report.check("payload_types", "all", "payload types", vectors.payload_types, { ...PAYLOAD_TYPES, "trust-root": TUF_PAYLOAD_TYPE });
}

/** Payload → base64 → PAE → signatures (made again from the seeds) → envelope → hash. */
function checkSigned(vectors, report, section, name, entry, payloadType, signatures) {
  const payload = Buffer.from(entry.payload, "utf8");
  report.check(section, name, "payload_base64", entry.payload_base64, payload.toString("base64"));
  report.check(section, name, "pae_hex", entry.pae_hex, pae(payloadType, payload).toString("hex"));
  const made = signatures.map(({ keyid, signer }) => {
    const { privateKey } = seedKeys(vectors.keys[signer].private_seed);
    return { keyid, sig: crypto.sign(null, pae(payloadType, payload), privateKey).toString("base64") };
  });
  const envelope = canonicalJson({ payload: payload.toString("base64"), payloadType, signatures: made });
  report.check(section, name, "envelope", entry.envelope, envelope.toString("utf8"));
  report.check(section, name, "hash", entry.hash, sha256(envelope).toString("hex"));
  report.intermediates_checked += 4;
  return made;
}

/** The statements and the bundles (section "statements" or "bundles"): body → payload → … → hash, then read again. */
function checkStatements(vectors, report, section = "statements") {
  for (const [name, entry] of Object.entries(vectors[section] ?? {})) {
    report.guard(section, name, () => {
      report.check(section, name, "payload", entry.payload, canonicalJson(entry.body).toString("utf8"));
      report.check(section, name, "payload_type", entry.payload_type, PAYLOAD_TYPES[entry.kind]);
      const [made] = checkSigned(vectors, report, section, name, entry, entry.payload_type,
        [{ keyid: vectors.keys[entry.signed_by].key_id, signer: entry.signed_by }]);
      report.check(section, name, "signature", entry.signature_base64, made.sig);
      report.check(section, name, "signature hex", entry.signature, Buffer.from(made.sig, "base64").toString("hex"));
      const statement = readStatement(entry.envelope, [entry.kind], entry.kind === "bundle" ? MAX_BUNDLE_BYTES : undefined);
      verifyStatement(statement, Buffer.from(vectors.keys[entry.signed_by].public_key, "hex"));
      report.check(section, name, "read hash", entry.hash, statement.hash);
      report.intermediates_checked += 5;
    });
  }
}

function checkTrustRoots(vectors, report) {
  for (const [name, entry] of Object.entries(vectors.trust_roots)) {
    report.guard("trust_roots", name, () => {
      const made = checkSigned(vectors, report, "trust_roots", name, entry, TUF_PAYLOAD_TYPE,
        entry.signatures.map((item, index) => ({ keyid: item.keyid, signer: entry.signed_by[index] })));
      report.check("trust_roots", name, "signatures", entry.signatures.map((item) => item.signature),
        made.map((item) => Buffer.from(item.sig, "base64").toString("hex")));
      const root = loadTrustRoot(Buffer.from(entry.envelope, "utf8"));
      report.check("trust_roots", name, "loaded", [entry.version, entry.expires, entry.hash], [root.version, root.expires, root.hash]);
      report.intermediates_checked += 2;
    });
  }
}

const rootNamed = (vectors, name) => loadTrustRoot(Buffer.from(vectors.trust_roots[name].envelope, "utf8"));
const chainOf = (vectors, c) => buildChain(rootNamed(vectors, c.trust_root), c.statements.map((name) => vectors.statements[name].envelope));

const CHECKS = {
  trust_root: (vectors, c) => {
    const root = loadTrustRoot(Buffer.from(c.document, "utf8"));
    return { version: root.version, hash: root.hash };
  },
  trust_root_update: (vectors, c) => ({
    version: updateTrustRoot(rootNamed(vectors, c.held), loadTrustRoot(Buffer.from(c.document, "utf8"))).version,
  }),
  trust_root_install: (vectors, c) => {
    const held = c.held === null ? null : installTrustRoot(null, rootNamed(vectors, c.held), c.now);
    return { version: installTrustRoot(held, loadTrustRoot(Buffer.from(c.document, "utf8")), c.now).version };
  },
  enrolment: (vectors, c) => {
    const { keyId: id, hash } = readEnrolment(c.document);
    return { key_id: id, hash };
  },
  endorsement: (vectors, c) => {
    const admitted = admitEndorsement(rootNamed(vectors, c.trust_root), c.document);
    return { office: admitted.office.id, subject: admitted.endorsement.subject, version: admitted.endorsement.version,
      hash: admitted.hash };
  },
  recall: (vectors, c) => {
    const statement = readStatement(c.document, ["recall"]);
    verifyStatement(statement, Buffer.from(vectors.keys[c.verify_with].public_key, "hex"));
    const { batchDigest, mandatory } = recallBody(statement.body);
    return { batch_digest: batchDigest, mandatory, hash: statement.hash };
  },
  revocation: (vectors, c) => {
    const root = rootNamed(vectors, c.trust_root);
    const admitted = c.endorsements.map((name) => admitEndorsement(root, vectors.statements[name].envelope));
    return checkRevocation(root, c.document, admitted);
  },
  recall_admission: (vectors, c) => {
    const chain = chainOf(vectors, c);
    const recordKey = chain.kept.flatMap((item) => item.endorsement.keys).find((k) => k.keyId === c.record_key_id);
    const statement = readStatement(c.document, ["recall"]);
    const { batchDigest, mandatory } = admitRecall(chain.root, statement, recordKey);
    return { batch_digest: batchDigest, mandatory, hash: statement.hash };
  },
  bundle: (vectors, c) => {
    const document = Object.hasOwn(c, "document") ? c.document : vectors.bundles[c.bundle].envelope;
    const { bundle, stale } = openBundle(Buffer.from(document, "utf8"), rootNamed(vectors, c.pinned), c.now, c.last_seen);
    return {
      hub: bundle.hub, version: bundle.version, as_of: bundle.as_of, expires: bundle.expires, province: bundle.province,
      trust_root_version: bundle.root.version, stale, endorsements: bundle.chain.kept.map((item) => item.hash),
      revoked_keys: [...bundle.chain.revokedKeys].sort(), revoked_endorsements: [...bundle.chain.revokedEndorsements].sort(),
      withdrawn_keys: [...bundle.chain.withdrawnKeys].sort().map((pair) => JSON.parse(pair)),
      batch_records: [...bundle.records.values()].sort((a, b) => (a.digest < b.digest ? -1 : 1))
        .map(({ digest, recall }) => ({ digest, recall })),
    };
  },
  chain: (vectors, c) => {
    const chain = chainOf(vectors, c);
    const found = standing(chain, c.key_id, c.day);
    if (found.standing !== "endorsed") return { standing: found.standing, producer: null, attestation: null };
    return { standing: "endorsed", producer: producerMatches(found.current, c.record) ? "ok" : "producer_mismatch",
      attestation: attestation(found.current, c.record, c.day) };
  },
};

function checkCases(vectors, report) {
  for (const c of vectors.cases) {
    report.cases_total += 1;
    report.guard("cases", c.title, () => {
      const run = CHECKS[c.check];
      if (run === undefined) throw new Error(`unknown check ${c.check}`);
      let got;
      try {
        got = run(vectors, c);
      } catch (error) {
        if (!(error instanceof TrustError)) throw error;
        got = { code: error.code };
      }
      report.check("cases", c.title, c.check, c.expected, got);
      report.cases_checked += 1;
    });
  }
}

function main() {
  const vectorsPath = path.resolve(process.argv[2] ?? DEFAULT_VECTORS);
  let vectors;
  try {
    vectors = JSON.parse(fs.readFileSync(vectorsPath, "utf8"));
  } catch (error) {
    process.stderr.write(`cannot read the vectors file ${vectorsPath}: ${error.message}\n`);
    return 2;
  }
  if (vectors?.format !== "ocop-trust-vectors/1") {
    process.stderr.write(`${vectorsPath} is not an ocop-trust-vectors/1 file (format ${JSON.stringify(vectors?.format)})\n`);
    return 2;
  }
  const report = new Report(vectorsPath);
  checkKeys(vectors, report);
  checkStatements(vectors, report);
  checkStatements(vectors, report, "bundles");
  checkTrustRoots(vectors, report);
  checkCases(vectors, report);
  process.stdout.write(JSON.stringify(report, null, 2) + "\n");
  return report.mismatches.length === 0 ? 0 : 1;
}

process.exitCode = main();
