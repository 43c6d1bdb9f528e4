/**
 * Encryption in the embedded default: `dev` and `demo` always encrypt, with a key generated into the
 * state directory (0600) unless PATCHWAVE_CODEC_KEYS(_FILE) names one, and run a codec server on
 * loopback that the dev server's UI is pointed at (`--ui-codec-endpoint`).
 */
import { freePort } from './dev-server';
import { generateCodecToken, startCodecServer, type CodecServer } from '../temporal/codec-server';
import { ensureLocalKeyring, type Keyring } from '../temporal/keys';

export interface LocalCodec {
  keyring: Keyring;
  /** The generated key's file, when the key is local (for `PATCHWAVE_CODEC_KEYS_FILE=… patchwave status`). */
  keysFile?: string;
  server: CodecServer;
  /** `--ui-codec-endpoint` for `temporal server start-dev`. */
  devServerArgs: string[];
}

export async function startLocalCodec(options: { stateDir: string; uiPort: number; port?: number }): Promise<LocalCodec> {
  const { keyring, file } = ensureLocalKeyring(options.stateDir);
  // The UI's origin as a browser sees it: the dev server binds 127.0.0.1, people also type localhost.
  const allowedOrigins = [`http://127.0.0.1:${options.uiPort}`, `http://localhost:${options.uiPort}`];
  // The dev UI sends neither a bearer token nor cookies: the token travels in the endpoint's path (see codec-server.ts).
  const token = process.env.PATCHWAVE_CODEC_TOKEN ?? generateCodecToken();
  const server = await startCodecServer({ keyring, token, allowedOrigins, host: '127.0.0.1', port: options.port ?? (await freePort()) });
  return { keyring, keysFile: file, server, devServerArgs: ['--ui-codec-endpoint', server.uiEndpoint] };
}
