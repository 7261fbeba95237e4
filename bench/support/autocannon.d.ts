// autocannon ships no types and @types/autocannon is not a dependency: only what the benches use.
declare module 'autocannon' {
  export interface Request {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string
  }

  export interface Options {
    url: string
    connections?: number
    pipelining?: number
    duration?: number
    amount?: number
    method?: string
    headers?: Record<string, string>
    body?: string
    requests?: Request[]
    timeout?: number
  }

  export interface Histogram {
    average: number
    mean: number
    p50: number
    p99: number
    max: number
    total: number
  }

  export interface Result {
    requests: Histogram & { sent: number }
    latency: Histogram
    throughput: Histogram
    duration: number
    errors: number
    timeouts: number
    non2xx: number
    '2xx': number
    statusCodeStats?: Record<string, { count: number }>
  }

  function autocannon(options: Options): Promise<Result>
  export default autocannon
}
