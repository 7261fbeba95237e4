import { gunzipSync, gzipSync } from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Bitstring } from '../../../src/core/status/bitstring'

/** The encodedList of an empty 131,072-entry list as printed in the W3C Bitstring Status List v1.0 examples. */
const W3C_EMPTY_LIST = 'uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA'

const sizes = fc.oneof(fc.integer({ min: 1, max: 4096 }), fc.constant(131_072))
const listWithIndices = sizes.chain((size) => fc.tuple(fc.constant(size), fc.uniqueArray(fc.nat(size - 1), { maxLength: 64 })))

describe('Bitstring (W3C Bitstring Status List v1.0)', () => {
  it('puts index 0 in the most significant bit of byte 0, index 7 in the least, index 8 in byte 1', () => {
    const list = new Bitstring(16)
    list.set(0, true)
    expect([...list.bytes]).toEqual([0b1000_0000, 0])
    list.set(7, true)
    expect([...list.bytes]).toEqual([0b1000_0001, 0])
    list.set(8, true)
    list.set(13, true)
    expect([...list.bytes]).toEqual([0b1000_0001, 0b1000_0100])
    list.set(0, false)
    expect([...list.bytes]).toEqual([0b0000_0001, 0b1000_0100])
    expect([0, 7, 8, 13].map((i) => list.get(i))).toEqual([false, true, true, true])
  })

  it('rounds its bytes up and refuses indices outside the list', () => {
    const list = new Bitstring(10)
    expect(list.bytes).toHaveLength(2)
    for (const bad of [-1, 10, 11, 1.5, Number.NaN]) {
      expect(() => list.get(bad)).toThrow(RangeError)
      expect(() => list.set(bad, true)).toThrow(RangeError)
    }
    list.set(9, true)
    expect([...list.bytes]).toEqual([0, 0b0100_0000])
  })

  it("decodes the W3C examples' empty list to 131,072 clear bits", async () => {
    const list = await Bitstring.decode(W3C_EMPTY_LIST)
    expect(list.size).toBe(131_072)
    expect(list.bytes.every((byte) => byte === 0)).toBe(true)
  })

  it('encodes as multibase base64url (u, no padding) of GZIP that zlib reads back', async () => {
    const list = new Bitstring(131_072)
    list.set(94_567, true)
    const encoded = await list.encode()
    expect(encoded).toMatch(/^u[A-Za-z0-9_-]+$/)
    const bytes = gunzipSync(Buffer.from(encoded.slice(1), 'base64url'))
    expect(bytes).toHaveLength(16_384)
    expect(bytes[94_567 >> 3]).toBe(0x80 >> (94_567 % 8))
    expect(bytes.reduce((n, byte) => n + (byte === 0 ? 0 : 1), 0)).toBe(1)
  })

  it('decodes a list gzipped by zlib, bit by bit MSB first', async () => {
    const bytes = Buffer.from([0b1010_0000, 0b0000_0001])
    const list = await Bitstring.decode(`u${gzipSync(bytes).toString('base64url')}`)
    expect(Array.from({ length: 16 }, (_, i) => (list.get(i) ? 1 : 0)).join('')).toBe('1010000000000001')
  })

  it('refuses an encodedList without the multibase u prefix', async () => {
    await expect(Bitstring.decode(W3C_EMPTY_LIST.slice(1))).rejects.toThrow(/multibase/)
  })

  it('decode(encode(list)) has exactly the bits that were set (property)', async () => {
    await fc.assert(
      fc.asyncProperty(listWithIndices, async ([size, indices]) => {
        const list = new Bitstring(size)
        for (const i of indices) list.set(i, true)
        const decoded = await Bitstring.decode(await list.encode(), size)
        expect(decoded.size).toBe(size)
        expect([...decoded.bytes]).toEqual([...list.bytes])
        const set = new Set(indices)
        for (let i = 0; i < size; i++) if (decoded.get(i) !== set.has(i)) throw new Error(`bit ${i} differs`)
      }),
      { numRuns: 150 },
    )
  })

  it('zlib sees the same bits at the same places (property)', async () => {
    await fc.assert(
      fc.asyncProperty(listWithIndices, async ([size, indices]) => {
        const list = new Bitstring(size)
        for (const i of indices) list.set(i, true)
        const bytes = gunzipSync(Buffer.from((await list.encode()).slice(1), 'base64url'))
        const seen = []
        for (let i = 0; i < size; i++) if ((bytes[i >> 3] as number) & (0x80 >> (i % 8))) seen.push(i)
        expect(seen).toEqual([...indices].sort((a, b) => a - b))
      }),
      { numRuns: 100 },
    )
  })
})
