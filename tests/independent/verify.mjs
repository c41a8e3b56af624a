// An independent verifier of the OCOP stamp format, version 1, written from docs/stamp-format.md alone
// (Node.js 20, built-in modules only). Section numbers (§) refer to that document.

import crypto from "node:crypto";

// ---------------------------------------------------------------------------------------------------------------
// Constants (§2, §3)

export const RECORD_TAG = Buffer.from("OCOP-BATCH-RECORD\x00", "latin1"); // 18 bytes
export const STAMP_TAG = Buffer.from("OCOP-STAMP\x00", "latin1"); // 11 bytes
export const TOKEN_BYTES = 81;
export const TOKEN_CHARS = 130;
const SIGNED_PART = 17; // token bytes 0..16 are signed, 17..80 are the signature
const MAX_SAFE = 9007199254740991n; // 2^53 - 1
const ED25519_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n; // L of RFC 8032
const BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const STATUSES = new Set(["active", "retired", "revoked"]);

/** SHA-256 of the concatenated byte strings. */
export function sha256(...parts) {
  const hash = crypto.createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
}

// ---------------------------------------------------------------------------------------------------------------
// Canonical JSON (§2): JCS on a restricted set of values; refuse, never repair.

/** A value canonical JSON refuses; `rule` is the vectors' name for the rule broken. */
export class CanonicalJsonError extends Error {
  constructor(rule, message) {
    super(message);
    this.rule = rule;
  }
}

/** The canonical JSON bytes (UTF-8) of `value`, or a CanonicalJsonError. */
export function canonicalJson(value) {
  return Buffer.from(serialize(value), "utf8");
}

function serialize(value) {
  if (value === null) throw new CanonicalJsonError("null", "null is not allowed: leave the member out");
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number" || typeof value === "bigint") return serializeInteger(value);
  if (typeof value === "string") return serializeString(value);
  if (Array.isArray(value)) return "[" + value.map(serialize).join(",") + "]";
  if (isPlainObject(value)) return serializeObject(value);
  throw new CanonicalJsonError("type", `a ${typeof value} is not a JSON value`);
}

function serializeInteger(value) {
  if (typeof value === "number" && !Number.isInteger(value)) {
    throw new CanonicalJsonError("float", `${value} is not an integer`);
  }
  const big = typeof value === "bigint" ? value : BigInt(value); // BigInt(-0) is 0n: "-0" is never written
  if (big > MAX_SAFE || big < -MAX_SAFE) throw new CanonicalJsonError("integer_range", `${big} is outside ±(2^53-1)`);
  return big.toString();
}

function isPlainObject(value) {
  if (typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function serializeObject(object) {
  const keys = Object.keys(object).sort(compareUtf16);
  return "{" + keys.map((key) => serializeString(key) + ":" + serialize(object[key])).join(",") + "}";
}

/** Order of strings as sequences of unsigned UTF-16 code units (RFC 8785 §3.2.3), the shorter prefix first. */
export function compareUtf16(a, b) {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const difference = a.charCodeAt(i) - b.charCodeAt(i);
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

function serializeString(text) {
  checkText(text);
  let out = '"';
  for (const char of text) out += escapeChar(char);
  return out + '"';
}

function checkText(text) {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) { i++; continue; }
    if (unit >= 0xd800 && unit <= 0xdfff) {
      throw new CanonicalJsonError("lone_surrogate", `lone surrogate U+${unit.toString(16).toUpperCase()}`);
    }
  }
  if (text.normalize("NFC") !== text) throw new CanonicalJsonError("not_nfc", `text not in NFC: ${JSON.stringify(text)}`);
}

function isLowSurrogate(unit) {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

const SHORT_ESCAPES = { '"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r" };

function escapeChar(char) {
  if (Object.hasOwn(SHORT_ESCAPES, char)) return SHORT_ESCAPES[char];
  const code = char.codePointAt(0);
  if (code < 0x20) return "\\u00" + code.toString(16).padStart(2, "0");
  return char;
}

/** Read a canonical record (§2): parse, canonicalize, accept only when that gives back the text byte for byte. */
export function readCanonicalRecord(text) {
  const received = typeof text === "string" ? Buffer.from(text, "utf8") : Buffer.from(text);
  const decoded = typeof text === "string" ? text : new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(received);
  let value;
  try {
    value = JSON.parse(decoded);
  } catch (error) {
    throw new CanonicalJsonError("not_json", `not JSON: ${error.message}`);
  }
  const canonical = canonicalJson(value); // a CanonicalJsonError of its own rule when the value is refused
  if (!canonical.equals(received)) throw new CanonicalJsonError("not_canonical", "the text is not the canonical JSON of its value");
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading a code (§4) and decoding a token (§3). Failures are NotAStamp with the kind named.

/** The text is not a stamp; `kind` is one of wrong_prefix, wrong_path, wrong_length, bad_base32, unknown_version, bad_serial. */
export class NotAStamp extends Error {
  constructor(kind) {
    super(kind);
    this.kind = kind;
  }
}

const ASCII_WHITESPACE = new Set(["\t", "\n", "\f", "\r", " "]); // WHATWG Infra "ASCII whitespace"
const URL_PART = /^[A-Za-z0-9$%*+\-.:]+$/;
const SCHEMES = ["https://", "http://"];

/** The token a code names (§4 steps 1–5), decoded into its fields (§3). */
export function readCode(text) {
  const trimmed = trimAsciiWhitespace(text);
  if (!trimmed.includes(":") && !trimmed.includes("/")) return decodeToken(trimmed);
  const scheme = SCHEMES.find((candidate) => asciiLowerCase(trimmed.slice(0, candidate.length)) === candidate);
  if (scheme === undefined) throw new NotAStamp("wrong_prefix");
  const parts = trimmed.slice(scheme.length).split("/");
  const beforeToken = parts.slice(0, -1);
  const pathIsValid = parts.length >= 3 && beforeToken.every((part) => URL_PART.test(part))
    && (parts[parts.length - 2] === "V" || parts[parts.length - 2] === "v");
  if (!pathIsValid) throw new NotAStamp("wrong_path");
  return decodeToken(parts[parts.length - 1]);
}

function trimAsciiWhitespace(text) {
  let start = 0;
  let end = text.length;
  while (start < end && ASCII_WHITESPACE.has(text[start])) start++;
  while (end > start && ASCII_WHITESPACE.has(text[end - 1])) end--;
  return text.slice(start, end);
}

/** Lower-case the ASCII letters A–Z only (no Unicode case mapping). */
function asciiLowerCase(text) {
  return text.replace(/[A-Z]/g, (letter) => String.fromCharCode(letter.charCodeAt(0) + 32));
}

/** Decode a token text (§3 steps 1–5) into {bytes, version, keyHint, digestPrefix, serial, signature}. */
export function decodeToken(token) {
  const chars = [...token]; // code points, not UTF-16 units
  if (chars.length !== TOKEN_CHARS) throw new NotAStamp("wrong_length");
  const values = chars.map(base32Value);
  if (values.some((value) => value === undefined)) throw new NotAStamp("bad_base32");
  if (values[values.length - 1] % 4 !== 0) throw new NotAStamp("bad_base32"); // the 2 unused low bits must be 0
  const bytes = valuesToBytes(values);
  if (bytes[0] !== 1) throw new NotAStamp("unknown_version");
  const serial = bytes.readUIntBE(14, 3);
  if (serial === 0) throw new NotAStamp("bad_serial");
  return {
    bytes, version: bytes[0], keyHint: bytes.subarray(1, 4), digestPrefix: bytes.subarray(4, 14), serial,
    signature: bytes.subarray(SIGNED_PART, TOKEN_BYTES),
  };
}

/** The value 0..31 of one base32 character, either letter case, ASCII only; undefined for anything else. */
function base32Value(char) {
  if (char >= "A" && char <= "Z") return char.charCodeAt(0) - 65;
  if (char >= "a" && char <= "z") return char.charCodeAt(0) - 97;
  if (char >= "2" && char <= "7") return char.charCodeAt(0) - 50 + 26;
  return undefined;
}

function valuesToBytes(values) {
  const bytes = Buffer.alloc(TOKEN_BYTES);
  let accumulator = 0;
  let bits = 0;
  let index = 0;
  for (const value of values) {
    accumulator = ((accumulator << 5) | value) & 0xfff;
    bits += 5;
    if (bits >= 8 && index < TOKEN_BYTES) {
      bits -= 8;
      bytes[index++] = (accumulator >> bits) & 0xff;
    }
  }
  return bytes;
}

/** RFC 4648 base32 without padding, upper case (the token's text form, §3). */
export function base32Encode(bytes) {
  let out = "";
  let accumulator = 0;
  let bits = 0;
  for (const byte of bytes) {
    accumulator = ((accumulator << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32_ALPHABET[(accumulator >> bits) & 31];
    }
  }
  if (bits > 0) out += BASE32_ALPHABET[(accumulator << (5 - bits)) & 31];
  return out;
}

/** The printed short code `BBBBBB-SSSSSS-C` (§4) of a digest prefix (bytes) and a serial. */
export function shortCode(digestPrefix, serial) {
  const body = base32Encode(digestPrefix).slice(0, 6) + "-" + String(serial).padStart(6, "0");
  return body + "-" + BASE32_ALPHABET[sha256(Buffer.from(body, "ascii"))[0] % 32];
}

// ---------------------------------------------------------------------------------------------------------------
// Ed25519 (§1, §5.3): node/OpenSSL verification plus the spec's explicit rule S < L.

/** A node KeyObject for a raw 32-byte Ed25519 public key. */
export function publicKeyObject(raw) {
  return crypto.createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" });
}

/** RFC 8032 §5.1.7 verification: refuses S ≥ L explicitly, whatever the crypto library does. */
export function ed25519Verify(keyObject, message, signature) {
  if (signature.length !== 64) return false;
  if (littleEndian(signature.subarray(32, 64)) >= ED25519_ORDER) return false;
  return crypto.verify(null, message, keyObject, signature);
}

function littleEndian(bytes) {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Trust store (§1) and record store (§2, §5).

/** The verifier's trusted keys; fingerprints and key ids are computed here from the raw public keys. */
export class TrustStore {
  constructor(entries) {
    this.keys = entries.map(({ publicKey, status }) => trustedKey(publicKey, status));
  }

  /** Every key, whatever its status, whose fingerprint starts with the 3-byte hint (§5.2). */
  candidates(hint) {
    return this.keys.filter((key) => key.fingerprint.subarray(0, 3).equals(hint));
  }

  /** The key with this key id, or undefined. */
  byKeyId(keyId) {
    return this.keys.find((key) => key.keyId === keyId);
  }
}

function trustedKey(publicKey, status) {
  const raw = Buffer.isBuffer(publicKey) ? publicKey : Buffer.from(publicKey, "hex");
  if (raw.length !== 32) throw new Error(`an Ed25519 public key is 32 bytes, not ${raw.length}`);
  if (!STATUSES.has(status)) throw new Error(`unknown key status ${JSON.stringify(status)}: use active, retired or revoked`);
  const fingerprint = sha256(raw);
  return { raw, status, fingerprint, keyId: fingerprint.subarray(0, 8).toString("hex"), object: publicKeyObject(raw) };
}

/** The verifier's batch records, each filed under one digest prefix with its signature and recall (or null). */
export class RecordStore {
  constructor() {
    this.byPrefix = new Map();
  }

  /** File a record under a digest prefix as is (a test double, or a row written by hand). */
  put(prefixHex, { record, signature, recall = null }) {
    this.byPrefix.set(prefixHex.toLowerCase(), { record, signature: Buffer.from(signature, "hex"), recall });
  }

  /** Import a signed record (§2): canonical text, signature by the trusted key its key_id names; filed by digest. */
  importSigned({ record, signature, recall = null }, trustStore) {
    const value = readCanonicalRecord(record);
    const key = trustStore.byKeyId(value.key_id);
    if (key === undefined) throw new Error(`record key_id ${JSON.stringify(value.key_id)} is not a trusted key`);
    const message = Buffer.concat([RECORD_TAG, Buffer.from(record, "utf8")]);
    if (!ed25519Verify(key.object, message, Buffer.from(signature, "hex"))) throw new Error("record signature does not verify");
    const digest = sha256(message);
    this.put(digest.subarray(0, 10).toString("hex"), { record, signature, recall });
    return digest.toString("hex");
  }

  /** The entry filed under exactly this digest prefix, or undefined. */
  lookup(prefix) {
    return this.byPrefix.get(Buffer.from(prefix).toString("hex"));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Verification (§5): first match wins.

/** Verify a code on the date `clock` (YYYY-MM-DD): {result, reasons: [codes in order]}. */
export function verify(text, { trustStore, recordStore, clock }) {
  let stamp;
  try {
    stamp = readCode(text);
  } catch (error) {
    if (error instanceof NotAStamp) return outcome("not_a_stamp", error.kind);
    throw error;
  }
  const candidates = trustStore.candidates(stamp.keyHint);
  if (candidates.length === 0) return outcome("unknown_issuer", "key_unknown");
  const signed = Buffer.concat([STAMP_TAG, stamp.bytes.subarray(0, SIGNED_PART)]);
  const key = candidates.find((candidate) => ed25519Verify(candidate.object, signed, stamp.signature));
  if (key === undefined) return outcome("forged", "signature_mismatch");
  if (key.status === "revoked") return outcome("revoked_key", "key_revoked");
  const entry = recordStore.lookup(stamp.digestPrefix);
  if (entry === undefined) return outcome("unknown_batch", "batch_unknown");
  const recordProblem = checkRecord(entry, stamp, key);
  if (recordProblem !== null) return outcome("forged", recordProblem);
  if (entry.recall !== null && entry.recall !== undefined) return outcome("recalled", "batch_recalled");
  const warnings = dateWarnings(JSON.parse(entry.record), clock);
  return { result: warnings.length > 0 ? "genuine_warning" : "genuine", reasons: warnings };
}

function outcome(result, reason) {
  return { result, reasons: [reason] };
}

/** §5.6: the record held for the stamp's prefix, in order; null when it holds, else the reason code. */
function checkRecord(entry, stamp, key) {
  const message = Buffer.concat([RECORD_TAG, Buffer.from(entry.record, "utf8")]);
  if (!sha256(message).subarray(0, 10).equals(stamp.digestPrefix)) return "record_mismatch";
  if (recordKeyId(entry.record) !== key.keyId) return "key_mismatch";
  if (!ed25519Verify(key.object, message, entry.signature)) return "record_signature_mismatch";
  const quantity = JSON.parse(entry.record)?.batch?.quantity;
  if (!Number.isSafeInteger(quantity) || stamp.serial > quantity) return "serial_out_of_range";
  return null;
}

/** The record's `key_id` member as text, or undefined when the text is not a JSON object holding a string one. */
function recordKeyId(recordText) {
  try {
    const value = JSON.parse(recordText);
    return typeof value?.key_id === "string" ? value.key_id : undefined;
  } catch {
    return undefined;
  }
}

/** §5.8: product_expired, then ocop_expired; on the expiry date itself neither applies. */
function dateWarnings(record, clock) {
  const warnings = [];
  if (isLaterDate(clock, record?.batch?.expiry_date)) warnings.push("product_expired");
  if (isLaterDate(clock, record?.product?.ocop_expires)) warnings.push("ocop_expired");
  return warnings;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function isLaterDate(clock, date) {
  if (!DATE.test(clock)) throw new Error(`the clock must be a date YYYY-MM-DD, not ${JSON.stringify(clock)}`);
  return typeof date === "string" && DATE.test(date) && clock > date; // same-length ISO dates compare as text
}
