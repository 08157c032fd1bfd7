import type { HealthProbe } from '../../backup/index';

/** GET a health URL with a 10 s timeout; resolves with the HTTP status. */
export const httpHealthProbe: HealthProbe = async (url, signal) => {
  const timeout = AbortSignal.timeout(10_000);
  const res = await fetch(url, { method: 'GET', signal: signal ? AbortSignal.any([signal, timeout]) : timeout, redirect: 'manual' });
  await res.arrayBuffer().catch(() => undefined);
  return res.status;
};
