/**
 * The five SDK v3 clients the AWS provider uses, built one way. Region and credentials come from the
 * standard AWS chain (env, shared config/SSO profile, web identity, container/instance role) unless
 * given; `endpoint` points every client at one URL (moto server or the fault layer in tests).
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client, type EC2ClientConfig } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';

export interface AwsClientOptions {
  /** Defaults to the standard chain (`AWS_REGION`, the profile's region). */
  region?: string;
  /** Defaults to the standard credential chain. Tests pass static dummy credentials. */
  credentials?: EC2ClientConfig['credentials'];
  /** One endpoint for every service (moto serves all of them on one port). Never set in production. */
  endpoint?: string;
  /**
   * SDK attempts per call, first try included. Adaptive retry already backs off on throttling; Temporal
   * retries the activity on top, so a handful is enough. Tests against moto use 1: an unimplemented
   * call answers 500 and retrying it only slows the test.
   */
  maxAttempts?: number;
  /** Per-attempt socket timeout; a hung connection becomes a retryable error instead of a stuck activity. */
  requestTimeoutMs?: number;
}

export interface AwsClients {
  ec2: EC2Client;
  autoScaling: AutoScalingClient;
  elbv2: ElasticLoadBalancingV2Client;
  ssm: SSMClient;
  /** Writes the patch baseline override objects (targeted remediation). */
  s3: S3Client;
  /** Closes the clients' sockets. */
  destroy(): void;
}

export const DEFAULT_MAX_ATTEMPTS = 5;

export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  const config = {
    region: options.region,
    credentials: options.credentials,
    endpoint: options.endpoint,
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    // Adaptive: client-side rate limiting on top of exponential backoff, so a campaign of many parallel
    // nodes slows down under throttling instead of burning its retries.
    retryMode: 'adaptive',
    // throwOnRequestTimeout: without it the SDK only logs a warning and keeps waiting on the socket.
    requestHandler: { requestTimeout: options.requestTimeoutMs ?? 30_000, throwOnRequestTimeout: true },
  } as const;
  const ec2 = new EC2Client(config);
  const autoScaling = new AutoScalingClient(config);
  const elbv2 = new ElasticLoadBalancingV2Client(config);
  const ssm = new SSMClient(config);
  // Path-style addressing against a single local endpoint (moto): no bucket subdomains to resolve.
  const s3 = new S3Client({ ...config, forcePathStyle: options.endpoint !== undefined });
  return {
    ec2,
    autoScaling,
    elbv2,
    ssm,
    s3,
    destroy() {
      for (const client of [ec2, autoScaling, elbv2, ssm, s3]) client.destroy();
    },
  };
}
