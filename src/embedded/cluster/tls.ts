/**
 * Mutual TLS for the native cluster (`patchwave cluster up --tls [dir]`): a private CA, one
 * certificate the Temporal services present to clients and to each other (internode) and use as
 * their system worker's client identity, and one client certificate for patchwave's workers, ingress,
 * CLI and the UI server. Node's crypto cannot sign X.509 certificates, so they are made with the
 * `openssl` command (OpenSSL 1.1.1 or later: `-addext`). EC P-256 keys: quick to make, and accepted
 * by Go (the server), rustls (the worker's core) and Node (the client).
 *
 * Files that already exist in the directory are used as they are, so an operator can bring their own
 * CA and certificates with the same names.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Where a cluster's certificates are; every path absolute. */
export interface ClusterTls {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  serverName: string;
}

/** The certificate files in `dir`; `serverName` is deploy/topology.yaml's security.tlsServerName. */
export function clusterTlsFiles(dir: string, serverName: string): ClusterTls {
  const d = path.resolve(dir);
  return {
    dir: d,
    caCert: path.join(d, 'ca.pem'),
    serverCert: path.join(d, 'server.pem'),
    serverKey: path.join(d, 'server.key'),
    clientCert: path.join(d, 'client.pem'),
    clientKey: path.join(d, 'client.key'),
    serverName,
  };
}

const DAYS = 90;

function openssl(args: string[]): void {
  try {
    execFileSync(process.env.PATCHWAVE_OPENSSL ?? 'openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error('making the cluster\'s TLS certificates needs the `openssl` command (Debian: apt-get install openssl), or PATCHWAVE_OPENSSL=/path/to/openssl, or your own certificates in the --tls directory');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() || e.message}`);
  }
}

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A self-signed CA certificate and its key. */
export function createCa(certFile: string, keyFile: string, commonName: string): void {
  openssl(['req', '-x509', ...ecKey, '-keyout', keyFile, '-out', certFile, '-days', String(DAYS), '-subj', `/CN=${commonName}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  chmodSync(keyFile, 0o600);
}

export interface LeafRequest {
  certFile: string;
  keyFile: string;
  commonName: string;
  /** serverAuth, clientAuth or both. */
  usage: ('serverAuth' | 'clientAuth')[];
  /** e.g. ['DNS:temporal', 'IP:127.0.0.1']. */
  altNames?: string[];
}

/** A certificate signed by the CA (certFile/keyFile), with a fresh key. */
export function issueCertificate(ca: { certFile: string; keyFile: string }, leaf: LeafRequest): void {
  const csr = `${leaf.certFile}.csr`;
  const ext = `${leaf.certFile}.ext`;
  writeFileSync(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${leaf.usage.join(',')}`,
      ...(leaf.altNames?.length ? [`subjectAltName=${leaf.altNames.join(',')}`] : []),
    ].join('\n'),
  );
  try {
    openssl(['req', '-new', ...ecKey, '-keyout', leaf.keyFile, '-out', csr, '-subj', `/CN=${leaf.commonName}`]);
    chmodSync(leaf.keyFile, 0o600);
    // A random serial, so no serial file is left behind and two issued certificates never share one.
    openssl(['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', `0x${randomBytes(16).toString('hex')}`, '-days', String(DAYS), '-extfile', ext, '-out', leaf.certFile]);
  } finally {
    rmSync(csr, { force: true });
    rmSync(ext, { force: true });
  }
}

/**
 * The cluster's certificates in `dir`, made where missing. The CA's key stays in the directory
 * (0600) so that `up` can issue a missing certificate later; keep the directory private.
 */
export function ensureClusterCertificates(dir: string, serverName: string, say: (m: string) => void = () => undefined): ClusterTls {
  const files = clusterTlsFiles(dir, serverName);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  const ca = { certFile: files.caCert, keyFile: path.join(files.dir, 'ca.key') };
  const made: string[] = [];
  if (!existsSync(ca.certFile)) {
    createCa(ca.certFile, ca.keyFile, 'patchwave cluster CA');
    made.push('CA');
  }
  const needsCa = () => {
    if (!existsSync(ca.keyFile)) throw new Error(`${ca.certFile} exists without its key ${ca.keyFile}: put the missing certificates in ${files.dir} yourself, or empty it`);
  };
  if (!existsSync(files.serverCert) || !existsSync(files.serverKey)) {
    needsCa();
    // Frontend, internode (each service is client and server of the others) and the system worker's identity.
    issueCertificate(ca, { certFile: files.serverCert, keyFile: files.serverKey, commonName: serverName, usage: ['serverAuth', 'clientAuth'], altNames: [`DNS:${serverName}`, 'DNS:localhost', 'IP:127.0.0.1'] });
    made.push('server');
  }
  if (!existsSync(files.clientCert) || !existsSync(files.clientKey)) {
    needsCa();
    issueCertificate(ca, { certFile: files.clientCert, keyFile: files.clientKey, commonName: 'patchwave', usage: ['clientAuth'] });
    made.push('client');
  }
  if (made.length > 0) say(`patchwave: made TLS certificates (${made.join(', ')}) in ${files.dir}`);
  return files;
}

/** The standard variables (read by @temporalio/envconfig in every patchwave process) that connect with the client certificate. */
export function clientTlsEnvironment(tls: ClusterTls): Record<string, string> {
  return {
    TEMPORAL_TLS_CLIENT_CERT_PATH: tls.clientCert,
    TEMPORAL_TLS_CLIENT_KEY_PATH: tls.clientKey,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: tls.caCert,
    TEMPORAL_TLS_SERVER_NAME: tls.serverName,
  };
}

/** The same as the TS client's connection options (for the cluster's own checks). */
export function clientTlsOptions(tls: ClusterTls) {
  return {
    serverNameOverride: tls.serverName,
    serverRootCACertificate: readFileSync(tls.caCert),
    clientCertPair: { crt: readFileSync(tls.clientCert), key: readFileSync(tls.clientKey) },
  };
}

/** The server's `global.tls`: mTLS on the frontend and between services; the system worker presents the server certificate. */
export function serverTlsConfig(tls: ClusterTls): Record<string, unknown> {
  const server = { certFile: tls.serverCert, keyFile: tls.serverKey, requireClientAuth: true, clientCaFiles: [tls.caCert] };
  const client = { serverName: tls.serverName, rootCaFiles: [tls.caCert] };
  return {
    internode: { server, client },
    frontend: { server, client },
    systemWorker: { certFile: tls.serverCert, keyFile: tls.serverKey, client },
  };
}

/** The frontend as the cluster's own checks reach it: an address, and the certificates when it requires them. */
export interface FrontendTarget {
  address: string;
  tls?: ClusterTls | null;
}

/** Connection options for `Connection.connect` (a bare address is a plain connection). */
export function frontendConnectOptions(target: string | FrontendTarget): { address: string; tls?: ReturnType<typeof clientTlsOptions> } {
  const { address, tls } = typeof target === 'string' ? { address: target, tls: undefined } : target;
  return tls ? { address, tls: clientTlsOptions(tls) } : { address };
}
