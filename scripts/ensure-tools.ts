/**
 * Installs what the test suite needs besides npm packages, saying what it does: the Temporal CLI
 * (built from its Go module once, cached outside the clone), the production topology's Temporal
 * server, SQL tool and UI server (test/cluster; same cache, version-checked), and moto server (pip,
 * cached venv). PostgreSQL 15 for test/cluster comes from the system (Debian's postgresql-15).
 */
import { ensureTemporalCli } from '../src/embedded/temporal-cli';
import { ensureClusterBinaries } from '../src/embedded/cluster/binaries';
import { postgresBinDir } from '../src/embedded/cluster/postgres';
import { loadTopology } from '../src/embedded/cluster/topology';
import { ensureMoto } from '../src/providers/aws/local/moto';

const say = (m: string) => console.error(m);
const cli = await ensureTemporalCli(say);
say(cli.kind === 'path' ? `patchwave: Temporal CLI ready: ${cli.path} (${cli.version.split('\n')[0]})` : 'patchwave: Temporal dev server will be downloaded by the SDK');
const cluster = await ensureClusterBinaries(say);
say(`patchwave: Temporal server, SQL tool and UI server ready for test/cluster: ${cluster.server}, ${cluster.sqlTool}, ${cluster.ui}`);
say(`patchwave: PostgreSQL for test/cluster: ${postgresBinDir(loadTopology().versions.postgresql)}`);
say(`patchwave: moto server ready: ${await ensureMoto(say)}`);
