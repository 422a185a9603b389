/** What the embedded broker counts (retained state `broker_*`, /metrics); its own file so the login check can count without importing the broker (issue 18). */
export interface BrokerCounters {
  connections: number
  refusedAnonymous: number
  refusedBadLogin: number
  refusedTooMany: number
  refusedBackoff: number
  refusedBusy: number
  refusedClientId: number
  deniedPublish: number
  deniedSubscribe: number
  rejectedPayload: number
  oversized: number
  clientErrors: number
}
