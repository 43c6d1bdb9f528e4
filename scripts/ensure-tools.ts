/**
 * Installs what the test suite needs besides npm packages, saying what it does: the Temporal CLI
 * (built from its Go module once, cached outside the clone) and moto server (pip, cached venv).
 */
import { ensureTemporalCli } from '../src/embedded/temporal-cli';
import { ensureMoto } from '../src/providers/aws/local/moto';

const say = (m: string) => console.error(m);
const cli = await ensureTemporalCli(say);
say(cli.kind === 'path' ? `patchwave: Temporal CLI ready: ${cli.path} (${cli.version.split('\n')[0]})` : 'patchwave: Temporal dev server will be downloaded by the SDK');
say(`patchwave: moto server ready: ${await ensureMoto(say)}`);
