import { PatchwaveError } from '../../domain/errors';
import type { Command } from 'commander';
import { startCodecServer } from '../../temporal/codec-server';
import { keyringFromEnvironment } from '../../temporal/keys';
import { portOption } from '../io';

export function registerCodecServerCommand(program: Command): void {
  program
    .command('codec-server')
    .description('serve Temporal\'s remote codec protocol (POST /encode, /decode) so the Temporal UI shows decrypted payloads')
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port', portOption('--port'), 8234)
    .option('--ui-origin <origin...>', 'browser origin(s) of the Temporal UI allowed by CORS (default: PATCHWAVE_CODEC_UI_ORIGIN or http://127.0.0.1:8233)')
    .action(async (opts: { host: string; port: number; uiOrigin?: string[] }) => {
      const keyring = keyringFromEnvironment();
      if (!keyring) throw new PatchwaveError('no payload encryption key: set PATCHWAVE_CODEC_KEYS_FILE or PATCHWAVE_CODEC_KEYS', 'bad-input');
      const token = process.env.PATCHWAVE_CODEC_TOKEN;
      if (!token) throw new PatchwaveError('no codec server token: set PATCHWAVE_CODEC_TOKEN (at least 16 characters; e.g. `openssl rand -base64 24`)', 'bad-input');
      const allowedOrigins = opts.uiOrigin ?? (process.env.PATCHWAVE_CODEC_UI_ORIGIN ?? 'http://127.0.0.1:8233').split(',');
      const server = await startCodecServer({ keyring, token, allowedOrigins, host: opts.host, port: opts.port });
      if (!['127.0.0.1', '::1', 'localhost'].includes(opts.host)) {
        console.error('patchwave codec-server: WARNING: listening beyond loopback over plain HTTP; put it behind TLS (a reverse proxy) — it decrypts for whoever holds the token');
      }
      console.error(`patchwave codec-server: ${server.url} (keys ${[...keyring.byId.keys()].join(', ')}; encrypting with ${keyring.current.id}); CORS for ${allowedOrigins.join(', ')}`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    });
}
