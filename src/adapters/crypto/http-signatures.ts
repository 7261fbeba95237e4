import { httpbis, type Request as HttpRequest, type Response as HttpResponse } from 'http-message-signatures'
import { parseDictionary, serializeInnerList, type InnerList } from 'structured-headers'
import { base64url } from 'jose'
import { TongbanError } from '../../core/errors'
import { sha256 } from './sha256'
import { toBase64 } from './x509'

/**
 * The tongban partner profile of HTTP Message Signatures (RFC 9421), written down in
 * contracts/partner-api.md. A request is signed over its method, target URI and RFC 9530
 * Content-Digest, with `created`, `expires`, a `nonce`, the `keyid` of the sender's
 * partner-auth key (in its trust list) and `alg`; an answer over its status and digest, bound to
 * the request's method, target URI and signature. One signature, labelled `tongban`, with exactly
 * these components and parameters, is accepted; anything looser is refused, so no reading of the
 * message other than the one the sender signed can verify.
 *
 * The library derives the components and serialises the signature base (the RFC's Appendix B
 * examples check that in test/adapters/crypto/http-signatures.test.ts); the rules are ours.
 */
export const SIGNATURE_LABEL = 'tongban'
export const SIGNATURE_ALG = 'ecdsa-p256-sha256'
export const REQUEST_TAG = 'tongban-partner-request'
export const RESPONSE_TAG = 'tongban-partner-response'
/** The tag of a supervision system's calls (contracts/supervision.md): a partner request can never pass for one. */
export const SUPERVISION_REQUEST_TAG = 'tongban-supervision-request'
const REQUEST_COMPONENTS = ['@method', '@target-uri', 'content-digest']
const RESPONSE_COMPONENTS = ['@status', 'content-digest', '"@method";req', '"@target-uri";req', `"signature";req;key="${SIGNATURE_LABEL}"`]
const REQUEST_PARAMS = ['created', 'expires', 'nonce', 'keyid', 'alg', 'tag']
const RESPONSE_PARAMS = ['created', 'keyid', 'alg', 'tag']
/** How long a signed request stays acceptable, and how far the two clocks may differ. */
export const REQUEST_LIFETIME_S = 60
export const CLOCK_SKEW_S = 30
const ECDSA = { name: 'ECDSA', hash: 'SHA-256' }
const NONCE = /^[A-Za-z0-9_-]{16,64}$/

/** Why a partner message's signature was refused; each reason is its own stable problem code. */
export type SignatureRefusal =
  | 'partner_unsigned'
  | 'partner_malformed_signature'
  | 'partner_unknown_key'
  | 'partner_bad_signature'
  | 'partner_outside_clock_window'
  | 'partner_digest_mismatch'
  | 'partner_replayed'

export class PartnerSignatureError extends TongbanError {
  readonly status = 401
  constructor(
    readonly code: SignatureRefusal,
    message: string,
  ) {
    super(message)
  }
}

export interface SigningKey {
  keyid: string
  privateKey: CryptoKey
}

export interface VerifyingKey {
  keyid: string
  publicKey: CryptoKey
  /** The region the key belongs to. */
  region: string
}

/** Finds a key by its keyid; a lookup may ask the database (supervision keys) or memory (partner keys). */
export type KeyLookup = (keyid: string) => VerifyingKey | undefined | Promise<VerifyingKey | undefined>

export interface SignedRequest {
  method: string
  /** The absolute target URI, as the sender addressed it. */
  url: string
  headers: Record<string, string>
  body: Uint8Array
}

export interface SignedResponse {
  status: number
  headers: Record<string, string>
  body: Uint8Array
}

export interface RequestSignature {
  key: VerifyingKey
  nonce: string
  created: Date
  expires: Date
}

export function contentDigest(body: Uint8Array): string {
  return `sha-256=:${toBase64(sha256(body))}:`
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]))
}

/** The RFC 9421 signature base of a message over the given components and parameters. */
export function signatureBase(components: string[], params: InnerList, message: HttpRequest | HttpResponse, request?: HttpRequest): string {
  const base = request
    ? httpbis.createSignatureBase({ fields: components }, message as HttpResponse, request)
    : httpbis.createSignatureBase({ fields: components }, message as HttpRequest)
  base.push(['"@signature-params"', [serializeInnerList(params)]])
  return httpbis.formatSignatureBase(base)
}

export function innerList(components: string[], values: Array<[string, string | number]>): InnerList {
  const parsed = parseDictionary(`x=(${components.map((c) => (c.startsWith('"') ? c : `"${c}"`)).join(' ')})`).get('x') as InnerList
  return [parsed[0], new Map(values)]
}

async function sign(key: SigningKey, base: string): Promise<string> {
  const signature = new Uint8Array(await crypto.subtle.sign(ECDSA, key.privateKey, new TextEncoder().encode(base)))
  return toBase64(signature)
}

/** The headers that sign a partner request (or, with its tag, a supervision system's): Content-Digest, Signature-Input, Signature. */
export async function signRequest(
  request: Omit<SignedRequest, 'headers'> & { headers?: Record<string, string> },
  key: SigningKey,
  now: Date,
  nonce: string,
  tag: string = REQUEST_TAG,
): Promise<Record<string, string>> {
  const created = Math.floor(now.getTime() / 1000)
  const headers = { ...lowerCased(request.headers ?? {}), 'content-digest': contentDigest(request.body) }
  const params = innerList(REQUEST_COMPONENTS, [
    ['created', created],
    ['expires', created + REQUEST_LIFETIME_S],
    ['nonce', nonce],
    ['keyid', key.keyid],
    ['alg', SIGNATURE_ALG],
    ['tag', tag],
  ])
  const base = signatureBase(REQUEST_COMPONENTS, params, { method: request.method, url: request.url, headers })
  return {
    'content-digest': headers['content-digest'],
    'signature-input': `${SIGNATURE_LABEL}=${serializeInnerList(params)}`,
    signature: `${SIGNATURE_LABEL}=:${await sign(key, base)}:`,
  }
}

/** An answer's signature made ready: its Content-Digest is known, the ECDSA signing is still to do. */
export interface PreparedResponseSignature {
  contentDigest: string
  /** The headers that sign the answer: Content-Digest, Signature-Input, Signature. */
  sign(): Promise<Record<string, string>>
}

/**
 * Everything of an answer's signature but the signing: split so that a caller can do work that
 * needs only the answer's digest (recording the call) while the thread pool signs. Throws when
 * the request's own signature fields cannot be read, since the answer is bound to them.
 */
export function prepareResponseSignature(response: { status: number; body: Uint8Array; headers?: Record<string, string> }, request: SignedRequest, key: SigningKey, now: Date): PreparedResponseSignature {
  const headers = { ...lowerCased(response.headers ?? {}), 'content-digest': contentDigest(response.body) }
  const params = innerList(RESPONSE_COMPONENTS, [
    ['created', Math.floor(now.getTime() / 1000)],
    ['keyid', key.keyid],
    ['alg', SIGNATURE_ALG],
    ['tag', RESPONSE_TAG],
  ])
  const base = signatureBase(RESPONSE_COMPONENTS, params, { status: response.status, headers }, { method: request.method, url: request.url, headers: lowerCased(request.headers) })
  return {
    contentDigest: headers['content-digest'],
    sign: async () => ({
      'content-digest': headers['content-digest'],
      'signature-input': `${SIGNATURE_LABEL}=${serializeInnerList(params)}`,
      signature: `${SIGNATURE_LABEL}=:${await sign(key, base)}:`,
    }),
  }
}

/** The headers that sign an answer to a verified partner request. */
export async function signResponse(response: { status: number; body: Uint8Array; headers?: Record<string, string> }, request: SignedRequest, key: SigningKey, now: Date): Promise<Record<string, string>> {
  return prepareResponseSignature(response, request, key, now).sign()
}

interface ParsedSignature {
  params: Map<string, unknown>
  input: InnerList
  signature: Uint8Array
}

/** The one `tongban` signature of a message, held to the profile's components and parameters. */
function parseSignature(headers: Record<string, string>, components: string[], paramNames: string[]): ParsedSignature {
  const inputField = headers['signature-input']
  const signatureField = headers.signature
  if (inputField === undefined && signatureField === undefined) throw new PartnerSignatureError('partner_unsigned', 'the message carries no Signature-Input and Signature (RFC 9421)')
  if (inputField === undefined || signatureField === undefined) throw new PartnerSignatureError('partner_malformed_signature', 'Signature-Input and Signature must come together')
  let inputs: ReturnType<typeof parseDictionary>
  let signatures: ReturnType<typeof parseDictionary>
  try {
    inputs = parseDictionary(inputField)
    signatures = parseDictionary(signatureField)
  } catch {
    throw new PartnerSignatureError('partner_malformed_signature', 'Signature-Input or Signature is not a structured field dictionary')
  }
  if (inputs.size !== 1 || signatures.size !== 1) throw new PartnerSignatureError('partner_malformed_signature', `exactly one signature, labelled ${SIGNATURE_LABEL}, is accepted`)
  const input = inputs.get(SIGNATURE_LABEL)
  const signature = signatures.get(SIGNATURE_LABEL)
  if (!input || !signature || !Array.isArray(input[0]) || !(signature[0] instanceof ArrayBuffer)) {
    throw new PartnerSignatureError('partner_malformed_signature', `the signature must be labelled ${SIGNATURE_LABEL}: an inner list of components, and a byte sequence`)
  }
  const covered = (input as InnerList)[0].map((item) => serializeInnerList([[item], new Map()]).slice(1, -1))
  const expected = components.map((c) => (c.startsWith('"') ? c : `"${c}"`))
  if (covered.length !== expected.length || covered.some((c, i) => c !== expected[i])) {
    throw new PartnerSignatureError('partner_malformed_signature', `the signature must cover exactly ${expected.join(' ')}; it covers ${covered.join(' ')}`)
  }
  const params = (input as InnerList)[1]
  const names = [...params.keys()]
  if (names.length !== paramNames.length || paramNames.some((name) => !params.has(name))) {
    throw new PartnerSignatureError('partner_malformed_signature', `the signature parameters must be exactly ${paramNames.join(', ')}`)
  }
  for (const name of ['created', 'expires']) if (params.has(name) && !Number.isInteger(params.get(name))) throw new PartnerSignatureError('partner_malformed_signature', `${name} must be an integer`)
  for (const name of ['nonce', 'keyid', 'alg', 'tag']) if (params.has(name) && typeof params.get(name) !== 'string') throw new PartnerSignatureError('partner_malformed_signature', `${name} must be a string`)
  if (params.get('alg') !== SIGNATURE_ALG) throw new PartnerSignatureError('partner_malformed_signature', `alg must be ${SIGNATURE_ALG}`)
  return { params, input: input as InnerList, signature: new Uint8Array(signature[0] as ArrayBuffer) }
}

async function checkSignature(key: VerifyingKey, base: string, signature: Uint8Array): Promise<void> {
  let valid = false
  try {
    valid = signature.length === 64 && (await crypto.subtle.verify(ECDSA, key.publicKey, signature as BufferSource, new TextEncoder().encode(base)))
  } catch {
    valid = false
  }
  if (!valid) throw new PartnerSignatureError('partner_bad_signature', 'the signature does not verify with the sender’s partner-auth key')
}

/** Why the body does not match its Content-Digest; undefined when it does. */
function digestMismatch(headers: Record<string, string>, body: Uint8Array): PartnerSignatureError | undefined {
  let members: ReturnType<typeof parseDictionary>
  try {
    members = parseDictionary(headers['content-digest'] ?? '')
  } catch {
    return new PartnerSignatureError('partner_digest_mismatch', 'Content-Digest is not a structured field dictionary')
  }
  const given = members.get('sha-256')?.[0]
  if (!(given instanceof ArrayBuffer) || toBase64(new Uint8Array(given)) !== toBase64(sha256(body))) {
    return new PartnerSignatureError('partner_digest_mismatch', 'Content-Digest (sha-256) does not match the body')
  }
  return undefined
}

/**
 * Both must hold. The body is digested here while the thread pool verifies the signature; a
 * bad signature is reported before a bad digest.
 */
async function checkSignatureAndDigest(key: VerifyingKey, base: string, signature: Uint8Array, headers: Record<string, string>, body: Uint8Array): Promise<void> {
  const signed = checkSignature(key, base, signature)
  const mismatch = digestMismatch(headers, body)
  await signed
  if (mismatch) throw mismatch
}

/** A request whose profile, key and clock window are in order: what it claims, its signature not yet checked. */
export interface ClaimedRequest extends RequestSignature {
  /** Checks the signature and the body's digest; throws PartnerSignatureError. */
  check(): Promise<void>
}

/**
 * Reads a partner request's signature (or, with its tag, a supervision system's): profile, key
 * and time window, everything but the cryptography, which `check()` does. Split so that a
 * caller can do work that needs only the claimed nonce and key (claiming the nonce) while the
 * signature is being checked on the thread pool.
 */
export async function readRequestSignature(request: SignedRequest, lookup: KeyLookup, now: Date, tag: string = REQUEST_TAG): Promise<ClaimedRequest> {
  const headers = lowerCased(request.headers)
  const { params, input, signature } = parseSignature(headers, REQUEST_COMPONENTS, REQUEST_PARAMS)
  if (params.get('tag') !== tag) throw new PartnerSignatureError('partner_malformed_signature', `tag must be ${tag}`)
  const nonce = params.get('nonce') as string
  if (!NONCE.test(nonce)) throw new PartnerSignatureError('partner_malformed_signature', 'the nonce must be 16 to 64 base64url characters')
  const key = await lookup(params.get('keyid') as string)
  if (!key) throw new PartnerSignatureError('partner_unknown_key', 'keyid names no partner-auth key of a registered partner')
  const created = params.get('created') as number
  const expires = params.get('expires') as number
  const seconds = now.getTime() / 1000
  if (expires <= created || expires - created > REQUEST_LIFETIME_S) throw new PartnerSignatureError('partner_outside_clock_window', `expires must follow created by at most ${REQUEST_LIFETIME_S} s`)
  if (created > seconds + CLOCK_SKEW_S || expires < seconds - CLOCK_SKEW_S) {
    throw new PartnerSignatureError('partner_outside_clock_window', `the request was signed for ${new Date(created * 1000).toISOString()} to ${new Date(expires * 1000).toISOString()}; it is ${now.toISOString()} here`)
  }
  const base = signatureBase(REQUEST_COMPONENTS, input, { method: request.method, url: request.url, headers })
  return { key, nonce, created: new Date(created * 1000), expires: new Date(expires * 1000), check: () => checkSignatureAndDigest(key, base, signature, headers, request.body) }
}

/**
 * Verifies a partner request (or, with its tag, a supervision system's): profile, key, time
 * window, then signature and the body's digest together. Replay (the nonce seen before) is the
 * caller's to check, against its store of nonces.
 */
export async function verifyRequest(request: SignedRequest, lookup: KeyLookup, now: Date, tag: string = REQUEST_TAG): Promise<RequestSignature> {
  const { check, ...claimed } = await readRequestSignature(request, lookup, now, tag)
  await check()
  return claimed
}

/** Verifies the answer to a request this region signed: profile, the partner's key, signature and digest. */
export async function verifyResponse(response: SignedResponse, request: SignedRequest, lookup: KeyLookup, expectedRegion: string): Promise<VerifyingKey> {
  const headers = lowerCased(response.headers)
  const { params, input, signature } = parseSignature(headers, RESPONSE_COMPONENTS, RESPONSE_PARAMS)
  if (params.get('tag') !== RESPONSE_TAG) throw new PartnerSignatureError('partner_malformed_signature', `tag must be ${RESPONSE_TAG}`)
  const key = await lookup(params.get('keyid') as string)
  if (!key || key.region !== expectedRegion) throw new PartnerSignatureError('partner_unknown_key', `the answer is not signed by a partner-auth key of ${expectedRegion}`)
  const base = signatureBase(RESPONSE_COMPONENTS, input, { status: response.status, headers }, { method: request.method, url: request.url, headers: lowerCased(request.headers) })
  await checkSignatureAndDigest(key, base, signature, headers, response.body)
  return key
}

/** A fresh nonce: 128 random bits, base64url. */
export function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return base64url.encode(bytes)
}
