// An independent verifier of the OCOP trust chain, version 1, written from docs/trust-format.md alone (Node.js 20,
// built-in modules only). Section numbers (§) refer to that document. Canonical JSON is stamp-format.md §2, which
// verify.mjs implements (written from that document alone).

import crypto from "node:crypto";

import { RECORD_TAG, canonicalJson, readCanonicalRecord } from "./verify.mjs";

/** A rule broken; `code` is the document's name for it. */
export class TrustError extends Error {
  constructor(code, message) {
    super(message ?? code);
    this.code = code;
  }
}

const malformed = (message) => new TrustError("malformed", message);

// ---------------------------------------------------------------------------------------------------------------
// §1 Keys and signatures

const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex"); // RFC 8410 SubjectPublicKeyInfo, 12 bytes
const ED25519_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

export function sha256(...parts) {
  const hash = crypto.createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** Key id: the first 8 bytes of SHA-256 over the raw 32-byte key, in hex. */
export function keyId(raw) {
  return sha256(raw).subarray(0, 8).toString("hex");
}

/** Ed25519 verification (RFC 8032 §5.1.7, S < L), the raw key wrapped in SPKI DER for node:crypto. */
export function ed25519Verify(raw, message, signature) {
  if (raw.length !== 32 || signature.length !== 64) return false;
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i]);
  if (s >= ED25519_ORDER) return false;
  try {
    const key = crypto.createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: "der", type: "spki" });
    return crypto.verify(null, message, key, signature);
  } catch {
    return false; // not a point of the curve: verifies nothing
  }
}

// ---------------------------------------------------------------------------------------------------------------
// §2 The envelope, §3 payload types

export const MAX_STATEMENT_BYTES = 65536;
export const MAX_BUNDLE_BYTES = 536870912; // §13.1
export const PAYLOAD_TYPES = {
  enrolment: "application/vnd.ocop.enrolment.v1+json",
  endorsement: "application/vnd.ocop.endorsement.v1+json",
  revocation: "application/vnd.ocop.revocation.v1+json",
  recall: "application/vnd.ocop.recall.v1+json",
  bundle: "application/vnd.ocop.bundle.v1+json",
};
export const TUF_PAYLOAD_TYPE = "application/vnd.tuf+json";
const KIND_OF_TYPE = new Map(Object.entries(PAYLOAD_TYPES).map(([kind, type]) => [type, kind]));

/** §2.3: "DSSEv1" SP LEN(type) SP type SP LEN(payload) SP payload. */
export function pae(payloadType, payload) {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** §2.2: the bytes of a canonical standard base64 text, or null. */
function base64Bytes(text) {
  if (typeof text !== "string" || !BASE64.test(text)) return null;
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text ? bytes : null;
}

function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hasExactly(object, members) {
  const keys = Object.keys(object);
  return keys.length === members.length && members.every((member) => Object.hasOwn(object, member));
}

/** §2.5 step 1: the JSON value of a text (a string or UTF-8 bytes); `limit` in bytes, or null. */
function parseJson(document, limit) {
  if (typeof document !== "string" && !Buffer.isBuffer(document)) return document; // already parsed
  const bytes = typeof document === "string" ? Buffer.from(document, "utf8") : document;
  if (limit !== null && bytes.length > limit) throw new TrustError("too_large");
  let text = document;
  if (Buffer.isBuffer(document)) {
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes); // a BOM stays, and JSON.parse refuses it
    } catch {
      throw malformed("not UTF-8");
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    throw malformed("not JSON");
  }
}

/** §2.1 and §2.2: {payload: bytes, payloadType, signatures: [{keyid, sig: bytes}]}. */
function readEnvelope(value) {
  if (!isObject(value) || !hasExactly(value, ["payload", "payloadType", "signatures"])) throw malformed("envelope members");
  const payload = base64Bytes(value.payload);
  if (typeof value.payloadType !== "string" || payload === null || !Array.isArray(value.signatures)) throw malformed("envelope");
  const signatures = value.signatures.map((item) => {
    const sig = isObject(item) && hasExactly(item, ["keyid", "sig"]) ? base64Bytes(item.sig) : null;
    if (sig === null || typeof item.keyid !== "string") throw malformed("signature");
    return { keyid: item.keyid, sig };
  });
  if (new Set(signatures.map((item) => item.keyid)).size !== signatures.length) throw malformed("a keyid twice");
  return { payload, payloadType: value.payloadType, signatures };
}

/** §5: SHA-256 over the canonical JSON of the envelope rebuilt from its decoded parts. */
function envelopeHash(payload, payloadType, signatures) {
  const envelope = {
    payload: payload.toString("base64"), payloadType,
    signatures: signatures.map(({ keyid, sig }) => ({ keyid, sig: sig.toString("base64") })),
  };
  return sha256(canonicalJson(envelope)).toString("hex");
}

/** §4 and §2.5 step 5: the payload's value, an object in canonical JSON. */
function canonicalObject(payload) {
  let value;
  try {
    value = readCanonicalRecord(payload);
  } catch {
    throw malformed("payload not canonical JSON");
  }
  if (!isObject(value)) throw malformed("payload not an object");
  return value;
}

/** §2.5 steps 1–6: a statement of one of `kinds`, its signature not yet checked (a bundle: `limit` of §13.1). */
export function readStatement(document, kinds, limit = MAX_STATEMENT_BYTES) {
  const envelope = readEnvelope(parseJson(document, limit));
  const kind = KIND_OF_TYPE.get(envelope.payloadType);
  if (kind === undefined || !kinds.includes(kind)) throw new TrustError("wrong_kind");
  if (envelope.signatures.length !== 1 || envelope.signatures[0].sig.length !== 64) throw malformed("one signature of 64 bytes");
  const body = canonicalObject(envelope.payload);
  const { keyid, sig } = envelope.signatures[0];
  if (!/^[0-9a-f]{16}$/.test(keyid)) throw malformed("keyid");
  return { kind, payloadType: envelope.payloadType, payload: envelope.payload, keyid, sig, body,
    hash: envelopeHash(envelope.payload, envelope.payloadType, envelope.signatures) };
}

/** §2.5 steps 7–8. */
export function verifyStatement(statement, raw) {
  if (keyId(raw) !== statement.keyid) throw new TrustError("wrong_signer");
  if (!ed25519Verify(raw, pae(statement.payloadType, statement.payload), statement.sig)) throw new TrustError("bad_signature");
}

// ---------------------------------------------------------------------------------------------------------------
// §6 Values in bodies

const WHITE_SPACE = new Set([0x20, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000]);
const isWhiteSpace = (cp) => WHITE_SPACE.has(cp) || (cp >= 0x2000 && cp <= 0x200a) || (cp >= 0x09 && cp <= 0x0d) || cp === 0x85;
const isControl = (cp) => cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f);
const isDirectionMark = (cp) => cp === 0x61c || cp === 0x200e || cp === 0x200f || (cp >= 0x202a && cp <= 0x202e)
  || (cp >= 0x2066 && cp <= 0x2069);

function text(value, max) {
  if (typeof value !== "string") throw malformed("text");
  const points = [...value].map((char) => char.codePointAt(0));
  if (points.length === 0 || points.length > max) throw malformed("text length");
  if (isWhiteSpace(points[0]) || isWhiteSpace(points[points.length - 1])) throw malformed("text not trimmed");
  if (points.some((cp) => isControl(cp) || isDirectionMark(cp))) throw malformed("control character or direction mark");
  return value;
}

function daysInMonth(year, month) {
  return [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

function isRealDate(year, month, day) {
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** A date as [year, month, day]; compared as its text (YYYY-MM-DD sorts like the calendar). */
function date(value) {
  const match = typeof value === "string" ? /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(value) : null;
  if (!match || !isRealDate(+match[1], +match[2], +match[3])) throw malformed("date");
  return value;
}

function time(value) {
  const match = typeof value === "string" ? /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z$/.exec(value) : null;
  if (!match || !isRealDate(+match[1], +match[2], +match[3]) || +match[4] > 23 || +match[5] > 59 || +match[6] > 59) {
    throw malformed("time");
  }
  return value;
}

function hex(value, digits) {
  if (typeof value !== "string" || !new RegExp(`^[0-9a-f]{${digits}}$`).test(value)) throw malformed(`${digits} hex digits`);
  return value;
}

function exact(value, members) {
  if (!isObject(value) || !hasExactly(value, members)) throw malformed(`members ${members.join(", ")}`);
  return value;
}

/** A key object (§6), given its members; returns the raw public key. */
function key(value, members = ["key_id", "public_key"]) {
  exact(value, members);
  const raw = Buffer.from(hex(value.public_key, 64), "hex");
  if (value.key_id !== keyId(raw)) throw malformed("key_id is not the public key's");
  return raw;
}

const PRODUCER_KINDS = ["enterprise", "cooperative", "cooperative_group", "household"];
const PRODUCER_RULES = {
  name: (v) => text(v, 300), kind: (v) => { if (!PRODUCER_KINDS.includes(v)) throw malformed("kind"); },
  province: (v) => text(v, 100), commune: (v) => text(v, 100), address: (v) => text(v, 300),
  tax_code: (v) => { if (typeof v !== "string" || !/^[0-9]{10}(-[0-9]{3})?$/.test(v)) throw malformed("tax_code"); },
};
const IDENTITY_MEMBERS = Object.keys(PRODUCER_RULES);

function producer(value) {
  if (!isObject(value)) throw malformed("producer");
  for (const member of Object.keys(value)) {
    if (!IDENTITY_MEMBERS.includes(member)) throw malformed(`producer.${member}`);
    PRODUCER_RULES[member](value[member]);
  }
  for (const member of ["name", "kind", "province", "commune"]) if (!Object.hasOwn(value, member)) throw malformed(`producer.${member}`);
  return value;
}

function integer(value, min, max) {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) throw malformed("integer");
  return value;
}

function list(value, min, max) {
  if (!Array.isArray(value) || value.length < min || value.length > max) throw malformed("list length");
  return value;
}

/** §7.2: the same day of the month `months` later, or that month's last day. */
export function addMonths(isoDate, months) {
  const [year, month, day] = isoDate.split("-").map(Number);
  const index = month - 1 + months;
  const y = year + Math.floor(index / 12);
  const m = (index % 12) + 1;
  const d = Math.min(day, daysInMonth(y, m));
  return `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

// ---------------------------------------------------------------------------------------------------------------
// §7 Statements

/** §7.1: the enrolment's key id, after its body and its own key's signature. */
export function readEnrolment(document) {
  const statement = readStatement(document, ["enrolment"]);
  const body = exact(statement.body, ["producer", "key", "requested_at"]);
  const raw = key(body.key);
  producer(body.producer);
  time(body.requested_at);
  verifyStatement(statement, raw);
  return { keyId: keyId(raw), hash: statement.hash };
}

function endorsedKey(value) {
  const raw = key(value, ["key_id", "public_key", "valid_from", "valid_until"]);
  if (date(value.valid_from) > date(value.valid_until)) throw malformed("key window");
  return { keyId: value.key_id, raw, validFrom: value.valid_from, validUntil: value.valid_until };
}

function endorsedProduct(value) {
  exact(value, ["name", "certificate_no", "stars", "level", "decision_no", "decision_date", "valid_until"]);
  text(value.name, 300);
  text(value.certificate_no, 60);
  integer(value.stars, 3, 5);
  if (value.level !== (value.stars === 5 ? "national" : "province")) throw malformed("level");
  text(value.decision_no, 60);
  const decided = date(value.decision_date);
  const until = date(value.valid_until);
  if (!(decided < until && until <= addMonths(decided, 36))) throw malformed("36 months");
  return value;
}

/** §7.2: the endorsement's values. */
export function endorsementBody(body) {
  exact(body, ["office", "producer_ref", "version", "issued_at", "producer", "keys", "products"]);
  const keys = list(body.keys, 1, 100).map(endorsedKey);
  const products = list(body.products, 0, 100).map(endorsedProduct);
  if (new Set(keys.map((k) => k.keyId)).size !== keys.length) throw malformed("a key twice");
  if (new Set(products.map((p) => p.certificate_no)).size !== products.length) throw malformed("a certificate twice");
  text(body.office, 100);
  text(body.producer_ref, 100);
  integer(body.version, 1, 2 ** 31);
  time(body.issued_at);
  producer(body.producer);
  return { office: body.office, subject: `${body.office}/${body.producer_ref}`, version: body.version, producer: body.producer,
    keys, products };
}

/** §7.3: {target, subject}. */
export function revocationBody(body) {
  const target = Object.hasOwn(body, "endorsement") ? "endorsement" : "key";
  exact(body, [target === "endorsement" ? "endorsement" : "key_id", "reason", "revoked_at"]);
  const subject = target === "endorsement" ? hex(body.endorsement, 64) : hex(body.key_id, 16);
  text(body.reason, 300);
  time(body.revoked_at);
  return { target, subject };
}

/** §7.4 */
export function recallBody(body) {
  exact(body, ["batch_digest", "reason", "mandatory", "recalled_on", "issued_at"]);
  hex(body.batch_digest, 64);
  text(body.reason, 300);
  if (typeof body.mandatory !== "boolean") throw malformed("mandatory");
  date(body.recalled_on);
  time(body.issued_at);
  return { batchDigest: body.batch_digest, mandatory: body.mandatory, reason: body.reason, recalledOn: body.recalled_on };
}

/** §7.4 "admitting a recall": `recordKey` is the kept endorsement's entry of the record's key (or undefined). */
export function admitRecall(root, statement, recordKey) {
  const recall = recallBody(statement.body);
  if (root.officeOfKey(statement.keyid) !== undefined) {
    verifyStatement(statement, root.keys.get(statement.keyid));
    return recall;
  }
  if (recordKey === undefined || statement.keyid !== recordKey.keyId) throw new TrustError("wrong_signer");
  verifyStatement(statement, recordKey.raw);
  return recall;
}

// ---------------------------------------------------------------------------------------------------------------
// §8 The trust root

const ROLE_NAMES = ["root", "snapshot", "targets", "timestamp"];

function tufKey(keyid, value) {
  exact(value, ["keytype", "keyval", "scheme"]);
  exact(value.keyval, ["public"]);
  if (value.keytype !== "ed25519" || value.scheme !== "ed25519") throw malformed("key type");
  const raw = Buffer.from(hex(value.keyval.public, 64), "hex");
  if (keyId(raw) !== keyid) throw malformed("key not under its key id");
  return raw;
}

function role(value) {
  if (!isObject(value) || !Array.isArray(value.keyids) || !value.keyids.every((k) => typeof k === "string")) throw malformed("role");
  if (new Set(value.keyids).size !== value.keyids.length) throw malformed("role key ids");
  integer(value.threshold, 1, Number.MAX_SAFE_INTEGER);
  return value;
}

/** §8.2 step 2: the metadata's values. */
function rootMetadata(payload) {
  const value = canonicalObject(payload);
  if (value._type !== "root") throw malformed("_type");
  if (typeof value.spec_version !== "string" || !/^1\.[0-9]+(\.[0-9]+)?$/.test(value.spec_version)) throw malformed("spec_version");
  integer(value.version, 1, Number.MAX_SAFE_INTEGER);
  time(value.expires);
  if (Object.hasOwn(value, "consistent_snapshot") && typeof value.consistent_snapshot !== "boolean") throw malformed("consistent_snapshot");
  if (!isObject(value.keys) || !isObject(value.roles) || !hasExactly(value.roles, ROLE_NAMES)) throw malformed("keys, roles");
  const keys = new Map(Object.entries(value.keys).map(([keyid, item]) => [keyid, tufKey(keyid, item)]));
  ROLE_NAMES.forEach((name) => role(value.roles[name]));
  if (!value.roles.root.keyids.every((keyid) => keys.has(keyid))) throw malformed("root key not in keys");
  return { value, keys };
}

const OFFICE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

function office(value, keys) {
  const members = ["id", "name", "scope", "keyids", "valid_from", "valid_until"];
  exact(value, value.scope === "province" ? [...members, "province"] : members);
  if (typeof value.id !== "string" || !OFFICE_ID.test(value.id)) throw malformed("office id");
  text(value.name, 300);
  if (value.scope !== "province" && value.scope !== "central") throw malformed("scope");
  if (value.scope === "province") text(value.province, 100);
  if (!Array.isArray(value.keyids) || value.keyids.length === 0) throw malformed("office keyids");
  for (const keyid of value.keyids) if (!keys.has(hex(keyid, 16))) throw malformed("office key not in keys");
  if (date(value.valid_from) > date(value.valid_until)) throw malformed("office window");
  return value;
}

function hub(value, keys) {
  exact(value, ["id", "name", "url", "keyids"]);
  if (![value.id, value.name, value.url].every((item) => typeof item === "string")) throw malformed("hub");
  if (!Array.isArray(value.keyids) || !value.keyids.every((keyid) => typeof keyid === "string" && keys.has(keyid))) {
    throw malformed("hub keyids");
  }
  return value;
}

/** §8.1: offices and hubs; ids unique, and a key id belongs to one office or hub. */
function officesAndHubs(metadata, keys) {
  const entries = (name) => {
    const items = Object.hasOwn(metadata, name) ? metadata[name] : [];
    if (!Array.isArray(items)) throw malformed(name);
    return items;
  };
  const offices = entries("x-ocop-offices").map((item) => office(item, keys));
  const hubs = entries("x-ocop-hubs").map((item) => hub(item, keys));
  const unique = (values) => new Set(values).size === values.length;
  if (!unique(offices.map((o) => o.id)) || !unique(hubs.map((h) => h.id))
      || !unique([...offices, ...hubs].flatMap((item) => item.keyids))) {
    throw malformed("an id or key id twice");
  }
  return { offices, hubs };
}

/** Whether `signatures` hold the threshold of `role` over `message`, with `keys` (§8.2 step 3, §8.3 step 3). */
function meetsRole(roleValue, keys, signatures, message) {
  let good = 0;
  for (const keyid of roleValue.keyids) {
    const signature = signatures.find((item) => item.keyid === keyid);
    if (signature && keys.has(keyid) && ed25519Verify(keys.get(keyid), message, signature.sig)) good += 1;
  }
  return good >= roleValue.threshold;
}

/** §8.2: a trust root from its envelope's bytes. */
export function loadTrustRoot(document) {
  const envelope = readEnvelope(parseJson(document, null));
  if (envelope.payloadType !== TUF_PAYLOAD_TYPE) throw malformed("payload type");
  const { value, keys } = rootMetadata(envelope.payload);
  const message = pae(envelope.payloadType, envelope.payload);
  if (!meetsRole(value.roles.root, keys, envelope.signatures, message)) throw new TrustError("bad_signature");
  const { offices, hubs } = officesAndHubs(value, keys);
  return { version: value.version, expires: value.expires, payload: envelope.payload, signatures: envelope.signatures,
    message, rootRole: value.roles.root, keys, offices, hubs,
    hash: envelopeHash(envelope.payload, envelope.payloadType, envelope.signatures),
    officeOfKey: (keyid) => offices.find((item) => item.keyids.includes(keyid)) };
}

/** §8.3 "Expiry": an instance installs `newer` at `now` (a time of §6) only when it has not expired, then as an update. */
export function installTrustRoot(held, newer, now) {
  if (now >= newer.expires) throw new TrustError("expired");
  return held === null ? newer : updateTrustRoot(held, newer);
}

/** §8.3: the root held after `held` is given `newer`. */
export function updateTrustRoot(held, newer) {
  if (newer.version < held.version) throw new TrustError("rollback");
  if (newer.version === held.version) {
    if (!newer.payload.equals(held.payload)) throw new TrustError("rollback");
    return held;
  }
  if (!meetsRole(held.rootRole, held.keys, newer.signatures, newer.message)) throw new TrustError("bad_signature");
  return newer;
}

// ---------------------------------------------------------------------------------------------------------------
// §9 The chain's rules

/** §9.1 */
export function admitEndorsement(root, document) {
  const statement = readStatement(document, ["endorsement"]);
  const signer = root.officeOfKey(statement.keyid);
  if (signer === undefined) throw new TrustError("unknown_office");
  verifyStatement(statement, root.keys.get(statement.keyid));
  const endorsement = endorsementBody(statement.body);
  if (endorsement.office !== signer.id) throw new TrustError("wrong_signer");
  const stars = signer.scope === "central" ? [5] : [3, 4];
  if (signer.scope === "province" && endorsement.producer.province !== signer.province) throw new TrustError("out_of_scope");
  if (!endorsement.products.every((product) => stars.includes(product.stars))) throw new TrustError("out_of_scope");
  return { endorsement, office: signer, hash: statement.hash };
}

/** §9.2 step 3: a revocation's {target, subject} once its signer may make it. */
export function checkRevocation(root, document, admitted) {
  const statement = readStatement(document, ["revocation"]);
  const revocation = revocationBody(statement.body);
  if (revocation.target === "key" && revocation.subject === statement.keyid && root.officeOfKey(statement.keyid) === undefined) {
    const listed = admitted.flatMap((item) => item.endorsement.keys).find((item) => item.keyId === statement.keyid);
    if (listed === undefined) throw new TrustError("unknown_key");
    verifyStatement(statement, listed.raw);
    return revocation;
  }
  const signer = root.officeOfKey(statement.keyid);
  if (signer === undefined) throw new TrustError("unknown_office");
  verifyStatement(statement, root.keys.get(statement.keyid));
  if (signer.scope !== "central") {
    const own = admitted.filter((item) => item.office.id === signer.id);
    const endorsedIt = revocation.target === "endorsement"
      ? own.some((item) => item.hash === revocation.subject)
      : own.some((item) => item.endorsement.keys.some((k) => k.keyId === revocation.subject));
    if (!endorsedIt) throw new TrustError("out_of_scope");
  }
  return revocation;
}

/** §9.2: the chain of kept statements (texts, in acceptance order). */
export function buildChain(root, documents) {
  const admitted = [];
  const revocations = [];
  for (const document of documents) {
    try {
      const statement = readStatement(document, ["endorsement", "revocation"]);
      if (statement.kind === "endorsement") {
        admitted.push(admitEndorsement(root, document));
      } else {
        revocationBody(statement.body);
        revocations.push(document);
      }
    } catch (error) {
      if (!(error instanceof TrustError)) throw error;
    }
  }
  const kept = new Map(); // subject -> admitted, in the order subjects first appear
  for (const item of admitted) {
    const current = kept.get(item.endorsement.subject);
    if (current === undefined || current.endorsement.version < item.endorsement.version) kept.set(item.endorsement.subject, item);
  }
  const revokedKeys = new Set();
  const revokedEndorsements = new Set();
  const withdrawnKeys = new Set(); // §9.2 step 4: JSON [office id, key id] of a province office's key revocation
  for (const document of revocations) {
    try {
      const { target, subject } = checkRevocation(root, document, admitted);
      const signer = root.officeOfKey(readStatement(document, ["revocation"]).keyid);
      if (target === "endorsement") revokedEndorsements.add(subject);
      else if (signer !== undefined && signer.scope === "province") withdrawnKeys.add(JSON.stringify([signer.id, subject]));
      else revokedKeys.add(subject);
    } catch (error) {
      if (!(error instanceof TrustError)) throw error;
    }
  }
  return { root, kept: [...kept.values()], revokedKeys, revokedEndorsements, withdrawnKeys };
}

/** §9.3: {standing, current}. */
export function standing(chain, keyid, day) {
  if (chain.revokedKeys.has(keyid)) return { standing: "key_revoked", current: [] };
  if (chain.root.expires.slice(0, 10) < day) return { standing: "trust_root_expired", current: [] };
  const listing = chain.kept.filter((item) => item.endorsement.keys.some((k) => k.keyId === keyid));
  if (listing.length === 0) return { standing: "key_not_endorsed", current: [] };
  const live = listing.filter((item) => !chain.revokedEndorsements.has(item.hash)
    && !chain.withdrawnKeys.has(JSON.stringify([item.office.id, keyid])));
  if (live.length === 0) return { standing: "endorsement_revoked", current: [] };
  const current = live.filter((item) => {
    const office = chain.root.offices.find((o) => o.id === item.office.id);
    const entry = item.endorsement.keys.find((k) => k.keyId === keyid);
    return office && office.valid_from <= day && day <= office.valid_until && entry.validFrom <= day && day <= entry.validUntil;
  });
  return current.length ? { standing: "endorsed", current } : { standing: "endorsement_expired", current: [] };
}

/** §9.4 */
export function producerMatches(current, record) {
  const given = isObject(record?.producer) ? record.producer : {};
  const identity = (p) => JSON.stringify(IDENTITY_MEMBERS.filter((m) => Object.hasOwn(p, m)).map((m) => [m, p[m]]));
  return current.some((item) => identity(item.endorsement.producer) === identity(given));
}

/** §9.5: null (no claim), or {result, office?, product?}. */
export function attestation(current, record, day) {
  const product = isObject(record?.product) ? record.product : {};
  if (!Object.hasOwn(product, "ocop_certificate_no")) return null;
  const listing = current.flatMap((item) => {
    const endorsed = item.endorsement.products.find((p) => p.certificate_no === product.ocop_certificate_no && p.name === product.name);
    return endorsed === undefined ? [] : [{ office: item.office.id, product: endorsed }];
  });
  const valid = listing.find((entry) => entry.product.decision_date <= day && day <= entry.product.valid_until);
  if (valid !== undefined) return { result: "attested", ...valid };
  return listing.length ? { result: "ocop_endorsement_expired", ...listing[0] } : { result: "ocop_not_endorsed" };
}

// ---------------------------------------------------------------------------------------------------------------
// §13 The inspector's bundle

const BUNDLE_MEMBERS = ["hub", "version", "as_of", "expires", "trust_root", "statements", "batch_records"];
const BUNDLE_ITEM_KINDS = ["endorsement", "revocation", "recall"];

/** §13.3 step 2: the bundle's own members. */
function bundleHeader(body) {
  exact(body, Object.hasOwn(body, "province") ? [...BUNDLE_MEMBERS, "province"] : BUNDLE_MEMBERS);
  integer(body.version, 0, Number.MAX_SAFE_INTEGER);
  time(body.as_of);
  time(body.expires);
  if (Object.hasOwn(body, "province")) text(body.province, 100);
  return { hub: body.hub, version: body.version, as_of: body.as_of, expires: body.expires, province: body.province ?? null };
}

/** §13.3 step 8: one exported batch record, {digest (hex), value (the record object)}. */
function bundleRecord(item) {
  if (!isObject(item) || item.format !== "ocop-signed-batch/1" || typeof item.record !== "string") throw malformed("batch record");
  let value;
  try {
    value = readCanonicalRecord(item.record);
  } catch {
    throw malformed("batch record not canonical JSON");
  }
  if (!isObject(value)) throw malformed("batch record not an object");
  if (typeof item.signature !== "string" || !/^(?:[0-9a-fA-F]{2})*$/.test(item.signature)) throw malformed("record signature");
  const digest = sha256(RECORD_TAG, Buffer.from(item.record, "utf8")).toString("hex");
  if (item.digest !== digest) throw malformed("record digest");
  return { digest, value, recall: null };
}

/** §13.3 step 9: mark the batches their recalls admit. */
function applyRecalls(records, recalls, root, chain) {
  for (const statement of recalls) {
    try {
      const { batchDigest } = recallBody(statement.body);
      const entry = records.get(batchDigest.slice(0, 20));
      if (entry === undefined || entry.digest !== batchDigest) continue;
      const recordKey = chain.kept.flatMap((item) => item.endorsement.keys).find((k) => k.keyId === entry.value.key_id);
      const recall = admitRecall(root, statement, recordKey);
      if (entry.recall === null || (recall.mandatory && entry.recall.kind === "voluntary")) {
        entry.recall = { kind: recall.mandatory ? "mandatory" : "voluntary", reason: recall.reason, recalled_on: recall.recalledOn };
      }
    } catch (error) {
      if (!(error instanceof TrustError)) throw error;
    }
  }
}

/** §13.3: a bundle read against the pinned root. */
export function readBundle(document, pinned) {
  const statement = readStatement(document, ["bundle"], MAX_BUNDLE_BYTES);
  const { body } = statement;
  const header = bundleHeader(body);
  const root = updateTrustRoot(pinned, loadTrustRoot(canonicalJson(body.trust_root)));
  const hub = root.hubs.find((item) => item.keyids.includes(statement.keyid));
  if (hub === undefined) throw new TrustError("unknown_hub");
  verifyStatement(statement, root.keys.get(statement.keyid));
  if (header.hub !== hub.id) throw new TrustError("wrong_signer");
  if (!Array.isArray(body.statements)) throw malformed("statements");
  const items = body.statements.map((item) => {
    if (!isObject(item)) throw malformed("statement not an object");
    return readStatement(item, BUNDLE_ITEM_KINDS);
  });
  const chainItems = body.statements.filter((item, index) => items[index].kind !== "recall");
  const chain = buildChain(root, chainItems);
  if (!Array.isArray(body.batch_records)) throw malformed("batch_records");
  const records = new Map();
  for (const item of body.batch_records) {
    const record = bundleRecord(item);
    records.set(record.digest.slice(0, 20), record);
  }
  applyRecalls(records, items.filter((item) => item.kind === "recall"), root, chain);
  return { ...header, root, chain, records };
}

/** §13.4 steps 2–5: `lastSeen` is null or {hub, version, as_of}; `now` a time of §6. */
export function openBundle(document, pinned, now, lastSeen) {
  const bundle = readBundle(document, pinned);
  if (lastSeen !== null && lastSeen.hub === bundle.hub && (bundle.version < lastSeen.version || bundle.as_of < lastSeen.as_of)) {
    throw new TrustError("rollback");
  }
  return { bundle, stale: now > bundle.expires };
}
