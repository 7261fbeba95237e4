import { base64url } from 'jose'

/**
 * A W3C Bitstring Status List: bit i (most significant bit of byte 0 first) says whether the
 * credential with statusListIndex i has the list's purpose (revoked, suspended). Encoded as
 * GZIP, then multibase base64url ('u' prefix, no padding).
 */
export class Bitstring {
  readonly bytes: Uint8Array

  constructor(readonly size: number) {
    this.bytes = new Uint8Array(Math.ceil(size / 8))
  }

  get(index: number): boolean {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new RangeError(`index ${index} outside 0..${this.size - 1}`)
    return ((this.bytes[index >> 3] as number) & (0x80 >> (index & 7))) !== 0
  }

  set(index: number, value: boolean): void {
    this.get(index)
    const mask = 0x80 >> (index & 7)
    const byte = this.bytes[index >> 3] as number
    this.bytes[index >> 3] = value ? byte | mask : byte & ~mask
  }

  async encode(): Promise<string> {
    const compressed = await new Response(new Blob([this.bytes as BlobPart]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer()
    return `u${base64url.encode(new Uint8Array(compressed))}`
  }

  static async decode(encoded: string, size?: number): Promise<Bitstring> {
    if (!encoded.startsWith('u')) throw new Error('encodedList must be multibase base64url (u prefix)')
    const compressed = base64url.decode(encoded.slice(1))
    const bytes = new Uint8Array(await new Response(new Blob([compressed as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer())
    const list = new Bitstring(size ?? bytes.length * 8)
    list.bytes.set(bytes.subarray(0, list.bytes.length))
    return list
  }
}
