/** Polls until `done` holds, at most `ms`; says what was last seen when it never does. */
export async function until<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (done(value)) return value
    if (Date.now() > deadline) throw new Error(`${what}: not so after ${ms} ms; last seen ${JSON.stringify(value).slice(0, 2000)}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}
