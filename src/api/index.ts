/**
 * The admin API as the composition root (src/main.ts) sees it: built on the running gate, listening
 * where api.listen says. See server.ts for the routes and README.md for how a dialer uses them.
 */
import { CallgateError } from '../errors';
import { buildApi, type Api, type ApiDeps } from './server';
import type { ApiConfig } from './config';

export type ApiServer = {
  /** Where it listens, e.g. http://127.0.0.1:8090. */
  readonly url: string;
  readonly api: Api;
  close(): Promise<void>;
};

/** Builds the API and listens on `listen`; CG_ERR_API_LISTEN when the address cannot be used. */
export async function startApi(deps: ApiDeps & { listen: ApiConfig['listen'] }): Promise<ApiServer> {
  const api = await buildApi(deps);
  const { host, port } = deps.listen;
  let address: string;
  try {
    address = await api.app.listen({ host, port, listenTextResolver: () => '' });
  } catch (e) {
    await api.close();
    throw new CallgateError(
      'CG_ERR_API_LISTEN',
      `cannot listen for the admin API on ${host}:${port} (${e instanceof Error ? e.message : String(e)}); free the port or change api.listen`,
      { cause: e },
    );
  }
  deps.logger.info({ component: 'api', url: address }, 'admin API listening (dashboard at /, metrics at /metrics)');
  return { url: address, api, close: () => api.close() };
}

export { buildApi, type Api, type ApiDeps } from './server';
export { apiConfigSchema, resolveApiToken, type ApiConfig } from './config';
