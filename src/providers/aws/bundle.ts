/**
 * Offline bundles on AWS: a flat package repository in S3, `s3://<bucket>/<prefix><name>/<file>`,
 * checked against the policy's checksum manifest by reading every object and hashing it here
 * (`s3:GetObject` only). The nodes install from the same objects over HTTPS (the bucket reached
 * through an S3 VPC endpoint), named in the baseline override's `Sources` (override.ts).
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { BundleSource } from '../../domain/package-source';
import type { AwsClients } from './clients';
import { awsSend, hasCode } from './errors';

export interface BundleLocation {
  bucket: string;
  /** Key prefix of every bundle, ending in `/` (a bundle is `<prefix><name>/`). */
  prefix: string;
}

export function bundleKey(location: BundleLocation, name: string, file: string): string {
  return `${location.prefix}${name}/${file}`;
}

/** Reads one object and returns its sha256; null when there is no such object. */
async function objectSha256(clients: AwsClients, bucket: string, key: string, signal?: AbortSignal): Promise<string | null> {
  try {
    const out = await awsSend(clients.s3, 's3', new GetObjectCommand({ Bucket: bucket, Key: key }), `s3://${bucket}/${key}`, signal);
    const hash = createHash('sha256');
    // Streamed: a package can be hundreds of MB, and only its digest is kept.
    for await (const chunk of out.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
    return hash.digest('hex');
  } catch (err) {
    if (hasCode(err, 'NoSuchKey', 'NotFound')) return null;
    throw err;
  }
}

/** The sha256 of every file the manifest names, as the bundle holds it in S3 (null: missing). */
export async function bundleChecksums(clients: AwsClients, location: BundleLocation, bundle: BundleSource, signal?: AbortSignal): Promise<Record<string, string | null>> {
  const sums: Record<string, string | null> = {};
  // One object at a time: the manifest is short, and the bytes, not the calls, are the cost.
  for (const file of Object.keys(bundle.manifest).sort()) {
    sums[file] = await objectSha256(clients, location.bucket, bundleKey(location, bundle.name, file), signal);
  }
  return sums;
}

/** Where the nodes fetch the bundle: the bucket's regional virtual-hosted HTTPS endpoint, unless configured. */
export function bundleRepositoryUrl(location: BundleLocation, name: string, region: string, baseUrl?: string): string {
  const base = baseUrl ?? `https://${location.bucket}.s3.${region}.amazonaws.com/${location.prefix}`;
  return `${base.replace(/\/+$/, '')}/${name}`;
}
