// Runs every golden vector (docs/vectors/stamp-vectors.json, §6 of docs/stamp-format.md) through the independent
// verifier of verify.mjs and prints a JSON report of every mismatch (expected vs got).
// Usage: node run-vectors.mjs [path/to/stamp-vectors.json]
// Exit 0 when every check matches, 1 when any does not, 2 when the vectors file cannot be read.

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import {
  RECORD_TAG, STAMP_TAG, RecordStore, TrustStore, base32Encode, canonicalJson, ed25519Verify, publicKeyObject,
  readCanonicalRecord, sha256, shortCode, verify,
} from "./verify.mjs";

const DEFAULT_VECTORS = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "docs", "vectors",
  "stamp-vectors.json");
const ED25519_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex"); // RFC 8410 wrapping of a seed

/** Collects checks; a check whose got differs from expected becomes a mismatch. */
class Report {
  constructor(vectorsPath) {
    Object.assign(this, {
      vectors: vectorsPath, cases_total: 0, cases_checked: 0, canonical_total: 0, canonical_checked: 0,
      consistency_checks: 0, mismatches: [],
    });
  }

  /** Compare expected and got (as JSON); `section` and `title` name the vector. */
  check(section, title, what, expected, got) {
    if (JSON.stringify(expected) !== JSON.stringify(got)) this.mismatches.push({ section, title, check: what, expected, got });
  }

  /** Run `body`; an exception is a mismatch of the vector, never a crash of the run. */
  guard(section, title, body) {
    try {
      body();
    } catch (error) {
      this.mismatches.push({ section, title, check: "no exception", expected: null, got: `${error.name}: ${error.message}` });
    }
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
  if (vectors?.format !== "ocop-stamp-vectors/1") {
    process.stderr.write(`${vectorsPath} is not an ocop-stamp-vectors/1 file (format ${JSON.stringify(vectors?.format)})\n`);
    return 2;
  }
  const report = new Report(vectorsPath);
  checkKeys(vectors, report);
  checkBatchRecord(vectors, report);
  checkCases(vectors, report);
  checkCanonicalJson(vectors.canonical_json, report);
  checkSpecExamples(vectors, report);
  process.stdout.write(JSON.stringify(report, null, 2) + "\n");
  return report.mismatches.length === 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------------------------
// Keys and the batch record: every derived field reproduced from the spec (§1, §2).

function privateKeyFromSeed(seedHex) {
  const der = Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.from(seedHex, "hex")]);
  return crypto.createPrivateKey({ key: der, format: "der", type: "pkcs8" });
}

function signWithSeed(seedHex, message) {
  return crypto.sign(null, message, privateKeyFromSeed(seedHex)).toString("hex");
}

function checkKeys(vectors, report) {
  for (const [name, key] of Object.entries(vectors.keys)) {
    report.guard("keys", name, () => {
      const derived = crypto.createPublicKey(privateKeyFromSeed(key.private_seed)).export({ format: "jwk" }).x;
      const fingerprint = sha256(Buffer.from(key.public_key, "hex"));
      report.check("keys", name, "public_key from private_seed", key.public_key, Buffer.from(derived, "base64url").toString("hex"));
      report.check("keys", name, "key_id", key.key_id, fingerprint.subarray(0, 8).toString("hex"));
      report.check("keys", name, "key_hint", key.key_hint, fingerprint.subarray(0, 3).toString("hex"));
      report.consistency_checks += 3;
    });
  }
}

function checkBatchRecord(vectors, report) {
  const batch = vectors.batch_record;
  const producer = vectors.keys.producer;
  report.guard("batch_record", "batch_record", () => {
    const canonical = canonicalJson(batch.record);
    const message = Buffer.concat([RECORD_TAG, canonical]);
    const digest = sha256(message).toString("hex");
    report.check("batch_record", "batch_record", "canonical", batch.canonical, canonical.toString("utf8"));
    report.check("batch_record", "batch_record", "record_tag", batch.record_tag, RECORD_TAG.toString("hex"));
    report.check("batch_record", "batch_record", "digest", batch.digest, digest);
    report.check("batch_record", "batch_record", "digest_prefix", batch.digest_prefix, digest.slice(0, 20));
    report.check("batch_record", "batch_record", "signature (re-signed from the seed)", batch.signature,
      signWithSeed(producer.private_seed, message));
    report.consistency_checks += 5;
    checkExport(batch, vectors, report);
  });
}

/** The exported document (§2) is imported the way an importer does: canonical record, digest, signature by key_id. */
function checkExport(batch, vectors, report) {
  const exported = batch.export;
  const expected = { format: "ocop-signed-batch/1", digest: batch.digest, record: batch.canonical, signature: batch.signature };
  report.check("batch_record", "export", "document", expected, exported);
  const trustStore = new TrustStore(Object.values(vectors.keys).map((key) => ({ publicKey: key.public_key, status: "active" })));
  const digest = new RecordStore().importSigned({ record: exported.record, signature: exported.signature }, trustStore);
  report.check("batch_record", "export", "imported digest", exported.digest, digest);
  report.consistency_checks += 2;
}

// ---------------------------------------------------------------------------------------------------------------
// Verification cases (§5, §6).

function checkCases(vectors, report) {
  report.cases_total = vectors.cases.length;
  for (const vectorCase of vectors.cases) {
    report.guard("cases", vectorCase.title, () => {
      const got = runCase(vectorCase, vectors, report);
      report.check("cases", vectorCase.title, "result", vectorCase.expected.result, got.result);
      report.check("cases", vectorCase.title, "reasons", vectorCase.expected.reasons, got.reasons);
      report.cases_checked += 1;
      if (vectorCase.stamp !== null) checkStamp(vectorCase, vectors, report);
    });
  }
}

/** Set up the verifier's stores exactly as the case says (§6) and verify its input on its clock. */
function runCase(vectorCase, vectors, report) {
  const trustStore = new TrustStore(vectorCase.trust_store.map((key) => ({ publicKey: key.public_key, status: key.status })));
  vectorCase.trust_store.forEach((key, index) => {
    report.check("cases", vectorCase.title, `trust_store[${index}].key_id`, key.key_id, trustStore.keys[index].keyId);
  });
  const recordStore = buildRecordStore(vectorCase, trustStore, vectors, report);
  return verify(vectorCase.input, { trustStore, recordStore, clock: vectorCase.clock });
}

function buildRecordStore(vectorCase, trustStore, vectors, report) {
  const held = vectorCase.verifier_store;
  const store = new RecordStore();
  report.check("cases", vectorCase.title, "verifier_has_record", held !== null, vectorCase.verifier_has_record);
  if (held === null) return store;
  const entry = { record: held.record, signature: held.signature, recall: vectorCase.recall };
  const digest = sha256(RECORD_TAG, Buffer.from(held.record, "utf8")).toString("hex");
  report.check("cases", vectorCase.title, "verifier_store.digest", held.digest, digest);
  if (held.state === "signed") {
    const filedUnder = store.importSigned(entry, importingTrustStore(held.record, trustStore, vectors)).slice(0, 20);
    report.check("cases", vectorCase.title, "signed record filed under found_for_prefix", held.found_for_prefix, filedUnder);
  } else if (held.state === "altered") {
    store.put(held.found_for_prefix, entry);
  } else {
    report.check("cases", vectorCase.title, "verifier_store.state", "signed or altered", held.state);
  }
  return store;
}

/**
 * The trust store a `signed` record is imported with: the case's, when it holds the key the record's key_id names;
 * otherwise (unknown-issuer: the verifier does not trust the signer, so it could not have imported the record) the
 * vectors' own key of that key_id, so that "signed" is still checked before the record is filed.
 */
function importingTrustStore(recordText, trustStore, vectors) {
  const keyId = JSON.parse(recordText).key_id;
  if (trustStore.byKeyId(keyId) !== undefined) return trustStore;
  const signer = Object.values(vectors.keys).filter((key) => key.key_id === keyId);
  return new TrustStore(signer.map((key) => ({ publicKey: key.public_key, status: "active" })));
}

/** The stamp fields of a case: encodings, signing bytes, and the signature re-made from the producer's seed. */
function checkStamp(vectorCase, vectors, report) {
  const stamp = vectorCase.stamp;
  const tokenBytes = Buffer.from(stamp.token_bytes, "hex");
  const signingBytes = Buffer.concat([STAMP_TAG, tokenBytes.subarray(0, 17)]);
  const baseUrl = vectors.base_url;
  const schemeEnd = baseUrl.indexOf("://") + 3;
  const url = baseUrl.slice(0, schemeEnd) + baseUrl.slice(schemeEnd).toUpperCase() + "/V/" + stamp.token;
  const title = vectorCase.title;
  report.check("cases", title, "stamp.token", stamp.token, base32Encode(tokenBytes));
  report.check("cases", title, "stamp.signing_bytes", stamp.signing_bytes, signingBytes.toString("hex"));
  report.check("cases", title, "stamp.signature", stamp.signature, tokenBytes.subarray(17).toString("hex"));
  report.check("cases", title, "stamp.signature (re-signed from the seed)", stamp.signature,
    signWithSeed(vectors.keys.producer.private_seed, signingBytes));
  report.check("cases", title, "stamp.url", stamp.url, url);
  report.consistency_checks += 5;
}

// ---------------------------------------------------------------------------------------------------------------
// Canonical JSON (§2, §6).

function checkCanonicalJson(section, report) {
  report.canonical_total = section.cases.length + section.refused.length;
  for (const item of section.cases) {
    report.guard("canonical_json", item.title, () => checkCanonicalCase(item, report));
  }
  for (const item of section.refused) {
    report.guard("canonical_json.refused", item.title, () => checkRefused(item, report));
  }
}

function checkCanonicalCase(item, report) {
  const fromValue = canonicalJson(item.value);
  const fromInput = canonicalJson(JSON.parse(item.input));
  const title = item.title;
  report.check("canonical_json", title, "canonical (from value)", item.canonical, fromValue.toString("utf8"));
  report.check("canonical_json", title, "canonical_hex (from value)", item.canonical_hex, fromValue.toString("hex"));
  report.check("canonical_json", title, "canonical_hex (from input)", item.canonical_hex, fromInput.toString("hex"));
  report.check("canonical_json", title, "sha256", item.sha256, sha256(fromValue).toString("hex"));
  report.check("canonical_json", title, "canonical text read as a canonical record", "accepted", readingOutcome(item.canonical));
  report.check("canonical_json", title, "input read as a canonical record", "refused", readingOutcome(item.input));
  report.canonical_checked += 1;
}

/** `value`: canonicalizing the parsed value fails by the rule named; `text`: reading the text as a record refuses it. */
function checkRefused(item, report) {
  const section = "canonical_json.refused";
  if (item.refused_as === "value") {
    report.check(section, item.title, "canonicalizing the parsed value", `refused: ${item.rule}`, canonicalizeOutcome(item.text));
  } else if (item.refused_as === "text") {
    report.check(section, item.title, "reading the text as a canonical record", "refused", readingOutcome(item.text));
  } else {
    report.check(section, item.title, "refused_as", "value or text", item.refused_as);
  }
  report.canonical_checked += 1;
}

function canonicalizeOutcome(text) {
  try {
    canonicalJson(JSON.parse(text));
    return "accepted";
  } catch (error) {
    if (error.rule === undefined) throw error;
    return `refused: ${error.rule}`;
  }
}

function readingOutcome(text) {
  try {
    readCanonicalRecord(text);
    return "accepted";
  } catch (error) {
    if (error.rule === undefined) throw error;
    return "refused";
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Examples stated in the spec's prose, outside the vectors file.

function checkSpecExamples(vectors, report) {
  report.guard("spec", "short code example (§4)", () => {
    const prefix = Buffer.from("00010203040506070809", "hex");
    report.check("spec", "short code example (§4)", "short code", "AAAQEA-000123-K", shortCode(prefix, 123));
    report.consistency_checks += 1;
  });
  report.guard("spec", "signature with S + L (§5.3)", () => checkNonCanonicalScalar(vectors, report));
  report.guard("spec", "on the expiry date itself (§5.8)", () => checkExpiryDays(vectors, report));
}

/** §5.8: "on the expiry date itself neither applies"; the genuine case checked on each expiry date of its record. */
function checkExpiryDays(vectors, report) {
  const genuine = vectors.cases.find((vectorCase) => vectorCase.title === "genuine");
  const record = JSON.parse(genuine.verifier_store.record);
  const { expiry_date: productExpires } = record.batch;
  const { ocop_expires: ocopExpires } = record.product;
  const trustStore = new TrustStore([{ publicKey: vectors.keys.producer.public_key, status: "active" }]);
  const recordStore = new RecordStore();
  recordStore.importSigned({ record: genuine.verifier_store.record, signature: genuine.verifier_store.signature }, trustStore);
  for (const clock of [productExpires, ocopExpires]) {
    const reasons = clock > ocopExpires ? ["ocop_expired"] : []; // the other date's warning, when it has passed
    const expected = { result: reasons.length > 0 ? "genuine_warning" : "genuine", reasons };
    report.check("spec", "on the expiry date itself (§5.8)", `clock ${clock}`, expected,
      verify(genuine.input, { trustStore, recordStore, clock }));
    report.consistency_checks += 1;
  }
}

/** §5.3 refuses S ≥ L: the genuine stamp of the first case with L added to S must be forged. */
function checkNonCanonicalScalar(vectors, report) {
  const genuine = vectors.cases.find((vectorCase) => vectorCase.expected.result === "genuine" && vectorCase.stamp !== null);
  const bytes = Buffer.from(genuine.stamp.token_bytes, "hex");
  let scalar = 0n;
  for (let i = 80; i >= 49; i--) scalar = (scalar << 8n) | BigInt(bytes[i]);
  scalar += ED25519_ORDER;
  for (let i = 49; i <= 80; i++, scalar >>= 8n) bytes[i] = Number(scalar & 0xffn);
  const trustStore = new TrustStore([{ publicKey: vectors.keys.producer.public_key, status: "active" }]);
  const got = verify(base32Encode(bytes), { trustStore, recordStore: new RecordStore(), clock: genuine.clock });
  report.check("spec", "signature with S + L (§5.3)", "verification", { result: "forged", reasons: ["signature_mismatch"] }, got);
  const key = publicKeyObject(Buffer.from(vectors.keys.producer.public_key, "hex"));
  const message = Buffer.concat([STAMP_TAG, bytes.subarray(0, 17)]);
  report.runtime_accepts_s_plus_l = crypto.verify(null, message, key, bytes.subarray(17)); // informational
  report.check("spec", "signature with S + L (§5.3)", "explicit S < L rule", false, ed25519Verify(key, message, bytes.subarray(17)));
  report.consistency_checks += 2;
}

process.exitCode = main();
