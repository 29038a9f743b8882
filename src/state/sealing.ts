/**
 * Keys derived from SESSION_SECRET, and sealing (AEAD) with them.
 *
 * One secret in configuration, one sub-key per purpose (HKDF, RFC 5869): the key that seals
 * createSession tokens never encrypts Redis values, and neither is the key that names Redis keys.
 * Sealing is AES-256-GCM (NIST SP 800-38D) with a fresh 96-bit nonce per message; the
 * additional data binds a sealed value to where it belongs (a token to "gateway-token", a Redis
 * value to its key), so a value moved elsewhere does not open.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** A 32-byte sub-key of `secret` for one purpose. */
export function deriveKey(secret: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `spp-jobsession-gateway ${purpose}`, 32));
}

export class Sealer {
  private readonly key: Buffer;

  constructor(secret: Buffer, purpose: string) {
    this.key = deriveKey(secret, purpose);
  }

  /** base64url(nonce | ciphertext | tag). */
  seal(plaintext: string | Buffer, aad: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The plaintext, or null when `sealed` was not sealed by this key for `aad` (forged, altered, another secret). */
  open(sealed: string, aad: string): string | null {
    const bytes = Buffer.from(sealed, 'base64url');
    if (bytes.length < NONCE_BYTES + TAG_BYTES) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, NONCE_BYTES));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}

/** A keyed hash (HMAC-SHA-256, base64url) under a sub-key of `secret`: names that reveal nothing. */
export function keyHasher(secret: Buffer, purpose: string): (name: string) => string {
  const key = deriveKey(secret, purpose);
  return (name) => createHmac('sha256', key).update(name).digest('base64url');
}
