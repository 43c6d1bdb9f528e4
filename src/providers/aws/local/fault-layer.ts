/**
 * Part of the local AWS sandbox (the provider's tests and `patchwave demo --provider aws`).
 * A small HTTP proxy between the AWS SDK and moto server, for what moto cannot show: a command that
 * is InProgress before it succeeds, a failed patch, throttling, 5xx, slow answers, and the calls moto
 * does not implement (answered with bodies shaped as AWS documents them). Everything not matched is
 * forwarded to moto unchanged, so the state stays moto's.
 *
 * Operations are recognised the way AWS routes them: `X-Amz-Target: AmazonSSM.SendCommand` (JSON
 * protocol) or `Action=DescribeInstances` in the form body (EC2 / query protocol). The service comes
 * from the SigV4 credential scope (`…/us-east-1/ec2/aws4_request`).
 *
 * Two tiers: `rules` (faults a test injects, usually limited by `times`) are consulted first, then
 * `handlers` (standing emulations such as the SSM agent emulator), then moto.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** `rest`: S3 (path-style), whose operation comes from the method and the SDK's `x-id`. */
export type AwsProtocol = 'json' | 'ec2' | 'query' | 'rest';

export interface AwsRequest {
  /** IAM-style service prefix from the signature scope: `ssm`, `ec2`, `autoscaling`, `elasticloadbalancing`. */
  service: string;
  operation: string;
  protocol: AwsProtocol;
  /** JSON body (SSM), form fields (query protocols; repeated keys keep the last value), or S3's Bucket and Key. */
  params: Record<string, any>;
  /** The raw form for query protocols (`Filter.1.Name`, …). */
  form?: URLSearchParams;
  body: string;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type FaultAnswer =
  | { kind: 'forward' }
  /** The service's own throttling error: ThrottlingException (SSM), RequestLimitExceeded (EC2), Throttling (query). */
  | { kind: 'throttle' }
  | { kind: 'server-error'; status?: number; html?: boolean }
  /** Wait, then answer with `then` (default: forward). */
  | { kind: 'delay'; ms: number; then?: FaultAnswer }
  /** A protocol-correct AWS error. */
  | { kind: 'error'; code: string; message: string; status?: number }
  /** A JSON-protocol success body. */
  | { kind: 'json'; body: unknown }
  /** A query-protocol success: `<{Operation}Response>` wrapping `inner`. */
  | { kind: 'xml'; inner: string }
  | { kind: 'raw'; answer: RawAnswer };

export type Forward = () => Promise<RawAnswer>;
export type Responder = FaultAnswer | ((req: AwsRequest, forward: Forward) => FaultAnswer | undefined | Promise<FaultAnswer | undefined>);

export interface FaultRule {
  /** `Service.Operation` style is not needed: the operation name alone, e.g. `GetCommandInvocation`. */
  operation: string;
  service?: string;
  match?: (req: AwsRequest) => boolean;
  /** How many requests this rule answers; unlimited when absent. */
  times?: number;
  answer: Responder;
}

export interface RecordedCall {
  service: string;
  operation: string;
  params: Record<string, any>;
  /** Who answered: `moto`, `rule` or `handler`. */
  by: 'moto' | 'rule' | 'handler';
  status: number;
}

const EC2_NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const QUERY_NS: Record<string, string> = {
  autoscaling: 'http://autoscaling.amazonaws.com/doc/2011-01-01/',
  elasticloadbalancing: 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/',
};
const SERVICE_OF_TARGET: Record<string, string> = { AmazonSSM: 'ssm', AmazonSQS: 'sqs' };

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function parseAwsRequest(headers: IncomingMessage['headers'], body: string, method = 'POST', url = '/'): AwsRequest {
  const scope = /Credential=[^/]+\/\d+\/[^/]+\/([^/]+)\/aws4_request/.exec(String(headers.authorization ?? ''))?.[1];
  if (scope === 's3') {
    // REST, path-style (the sandbox's clients): /bucket/key; the SDK names the operation in `x-id`.
    const parsed = new URL(url, 'http://sandbox');
    const [bucket = '', ...key] = parsed.pathname.split('/').slice(1).map(decodeURIComponent);
    const fallback: Record<string, string> = { GET: key.length ? 'GetObject' : 'ListObjects', PUT: key.length ? 'PutObject' : 'CreateBucket', HEAD: 'HeadObject', DELETE: 'DeleteObject' };
    const operation = parsed.searchParams.get('x-id') ?? fallback[method] ?? 'Unknown';
    return { service: 's3', operation, protocol: 'rest', params: { Bucket: bucket, ...(key.length > 0 && { Key: key.join('/') }) }, body };
  }
  const target = headers['x-amz-target'];
  if (typeof target === 'string' && target.includes('.')) {
    const [prefix, operation] = target.split('.');
    let params: Record<string, any> = {};
    try {
      params = body ? JSON.parse(body) : {};
    } catch {
      params = {};
    }
    return { service: scope ?? SERVICE_OF_TARGET[prefix] ?? prefix, operation, protocol: 'json', params, body };
  }
  const form = new URLSearchParams(body);
  const service = scope ?? 'unknown';
  return {
    service,
    operation: form.get('Action') ?? 'Unknown',
    protocol: service === 'ec2' ? 'ec2' : 'query',
    params: Object.fromEntries(form.entries()),
    form,
    body,
  };
}

export function xmlEscape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Renders an answer in the request's protocol, as AWS would send it. */
export function render(req: AwsRequest, answer: Exclude<FaultAnswer, { kind: 'forward' } | { kind: 'delay' }>): RawAnswer {
  const requestId = randomUUID();
  switch (answer.kind) {
    case 'raw':
      return answer.answer;
    case 'server-error':
      return answer.html
        ? { status: answer.status ?? 500, headers: { 'content-type': 'text/html' }, body: '<html><title>500 Internal Server Error</title></html>' }
        : render(req, { kind: 'error', code: req.protocol === 'json' ? 'InternalServerError' : 'InternalFailure', message: 'We encountered an internal error. Please try again.', status: answer.status ?? 500 });
    case 'throttle':
      if (req.protocol === 'json') return render(req, { kind: 'error', code: 'ThrottlingException', message: 'Rate exceeded', status: 400 });
      if (req.protocol === 'ec2') return render(req, { kind: 'error', code: 'RequestLimitExceeded', message: 'Request limit exceeded.', status: 503 });
      return render(req, { kind: 'error', code: 'Throttling', message: 'Rate exceeded', status: 400 });
    case 'error': {
      const status = answer.status ?? 400;
      if (req.protocol === 'json') {
        return {
          status,
          headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId, 'x-amzn-errortype': answer.code },
          body: JSON.stringify({ __type: answer.code, message: answer.message }),
        };
      }
      if (req.protocol === 'rest') {
        return {
          status,
          headers: { 'content-type': 'application/xml' },
          body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(answer.code)}</Code><Message>${xmlEscape(answer.message)}</Message><RequestId>${requestId}</RequestId></Error>`,
        };
      }
      if (req.protocol === 'ec2') {
        return {
          status,
          headers: { 'content-type': 'text/xml;charset=UTF-8' },
          body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${xmlEscape(answer.code)}</Code><Message>${xmlEscape(answer.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
        };
      }
      return {
        status,
        headers: { 'content-type': 'text/xml' },
        body: `<ErrorResponse xmlns="${QUERY_NS[req.service] ?? ''}"><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${xmlEscape(answer.code)}</Code><Message>${xmlEscape(answer.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
    }
    case 'json':
      return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId }, body: JSON.stringify(answer.body) };
    case 'xml':
      if (req.protocol === 'ec2') {
        return {
          status: 200,
          headers: { 'content-type': 'text/xml;charset=UTF-8' },
          body: `<?xml version="1.0" encoding="UTF-8"?>\n<${req.operation}Response xmlns="${EC2_NS}"><requestId>${requestId}</requestId>${answer.inner}</${req.operation}Response>`,
        };
      }
      return {
        status: 200,
        headers: { 'content-type': 'text/xml' },
        body: `<${req.operation}Response xmlns="${QUERY_NS[req.service] ?? ''}"><${req.operation}Result>${answer.inner}</${req.operation}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${req.operation}Response>`,
      };
  }
}

export class AwsFaultLayer {
  readonly calls: RecordedCall[] = [];
  private rules: FaultRule[] = [];
  private handlers: FaultRule[] = [];

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
    private readonly target: string,
  ) {}

  /** Starts the proxy on a free loopback port in front of `target` (moto's endpoint). */
  static async start(target: string): Promise<AwsFaultLayer> {
    let layer: AwsFaultLayer | undefined;
    const server = createServer((req, res) => {
      layer!.handle(req, res).catch((err) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`fault layer: ${(err as Error).message}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address !== 'object') throw new Error('fault layer: no address');
    layer = new AwsFaultLayer(server, `http://127.0.0.1:${address.port}`, target.replace(/\/$/, ''));
    return layer;
  }

  /** Adds a fault; returns it so a test can see how often it fired (`times` counts down). */
  add(rule: FaultRule): FaultRule {
    this.rules.push(rule);
    return rule;
  }

  /** Adds a standing handler, consulted after the rules (emulations that answer many calls). */
  addHandler(rule: FaultRule): FaultRule {
    this.handlers.push(rule);
    return rule;
  }

  /** Drops every rule (not the handlers) and the call log; call between tests. */
  reset(): void {
    this.rules = [];
    this.calls.length = 0;
  }

  /** Calls of one operation, in order. */
  callsOf(operation: string, service?: string): RecordedCall[] {
    return this.calls.filter((c) => c.operation === operation && (service === undefined || c.service === service));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async forward(req: IncomingMessage, body: string): Promise<RawAnswer> {
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(req.headers)) {
      if (value === undefined || ['host', 'content-length', 'connection', 'transfer-encoding'].includes(key)) continue;
      headers[key] = Array.isArray(value) ? value.join(', ') : value;
    }
    const res = await fetch(`${this.target}${req.url ?? '/'}`, { method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body });
    const out: Record<string, string> = {};
    res.headers.forEach((value, key) => {
      if (!['content-length', 'connection', 'transfer-encoding', 'content-encoding'].includes(key)) out[key] = value;
    });
    return { status: res.status, headers: out, body: await res.text() };
  }

  private async answerWith(req: AwsRequest, answer: FaultAnswer, forward: Forward): Promise<RawAnswer> {
    if (answer.kind === 'forward') return forward();
    if (answer.kind === 'delay') {
      await new Promise((r) => setTimeout(r, answer.ms));
      return this.answerWith(req, answer.then ?? { kind: 'forward' }, forward);
    }
    return render(req, answer);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const aws = parseAwsRequest(req.headers, body, req.method, req.url);
    let forwarded = false;
    const forward: Forward = () => {
      forwarded = true;
      return this.forward(req, body);
    };
    let raw: RawAnswer | undefined;
    let by: RecordedCall['by'] = 'moto';
    for (const [tier, list] of [['rule', this.rules], ['handler', this.handlers]] as const) {
      for (const rule of list) {
        if (rule.operation !== aws.operation || (rule.service && rule.service !== aws.service)) continue;
        if (rule.times !== undefined && rule.times <= 0) continue;
        if (rule.match && !rule.match(aws)) continue;
        const answer = typeof rule.answer === 'function' ? await rule.answer(aws, forward) : rule.answer;
        // The responder passed (it must not have called forward then): try the next one.
        if (!answer) continue;
        if (rule.times !== undefined) rule.times--;
        raw = await this.answerWith(aws, answer, forward);
        by = answer.kind === 'forward' && !forwarded ? 'moto' : tier;
        break;
      }
      if (raw) break;
    }
    raw ??= await forward();
    this.calls.push({ service: aws.service, operation: aws.operation, params: aws.params, by, status: raw.status });
    res.writeHead(raw.status, raw.headers);
    res.end(raw.body);
  }
}
