/**
 * Seeds a small patchwave-ready fleet into an AWS-compatible endpoint (moto server) for the demo and
 * the integration tests: a VPC and subnet, a launch template, an internet-facing load balancer with
 * one target group, and an Auto Scaling group whose instances carry the patchwave tags (propagated
 * from the group). Never point this at a real account: it creates billable resources.
 */
import { CreateAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, CreateSubnetCommand, CreateVpcCommand, DescribeImagesCommand } from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from './clients';
import { READ_TAGS } from './tags';

export interface SeedOptions {
  /** Cluster name; also names the group, target group and load balancer. */
  name?: string;
  size?: number;
  role?: string;
  dataSensitivity?: 'high' | 'medium' | 'low' | 'none';
  /** Installed packages, as `patchwave:pkg:<name>` tags (the `tags` package source). */
  packages?: Record<string, string>;
  /** More tags for every instance. */
  tags?: Record<string, string>;
  /** Adds a data volume (/dev/sdf) to every instance, so data restore has something to do. */
  dataVolume?: boolean;
  availabilityZone?: string;
}

export interface SeededFleet {
  clusterId: string;
  vpcId: string;
  subnetId: string;
  launchTemplateId: string;
  autoScalingGroupName: string;
  targetGroupArn: string;
  loadBalancerArn: string;
  instanceIds: string[];
}

/** Vulnerable to CVE-2024-6387 (regreSSHion) on Ubuntu 22.04; the fix is 1:8.9p1-3ubuntu0.10. */
export const DEMO_PACKAGES = { 'openssh-server': '1:8.9p1-3ubuntu0.6', openssl: '3.0.2-0ubuntu1.15' };
/** What the demo's patch baseline installs (the node emulator in tests applies these). */
export const DEMO_FIXED_PACKAGES = { 'openssh-server': '1:8.9p1-3ubuntu0.10', openssl: '3.0.2-0ubuntu1.16' };

export async function seedFleet(clients: AwsClients, options: SeedOptions = {}): Promise<SeededFleet> {
  const name = options.name ?? 'web';
  const size = options.size ?? 4;
  const zone = options.availabilityZone ?? `${await clients.ec2.config.region()}a`;

  const vpc = await clients.ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
  const vpcId = vpc.Vpc!.VpcId!;
  const subnet = await clients.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.1.0/24', AvailabilityZone: zone }));
  const subnetId = subnet.Subnet!.SubnetId!;

  // moto ships a catalogue of 2017-era public AMIs; an Ubuntu one makes the nodes Linux (dpkg).
  const images = await clients.ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'name', Values: ['ubuntu/images/hvm-ssd/*'] }] }));
  const imageId = images.Images?.[0]?.ImageId ?? 'ami-785db401';
  const lt = await clients.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: `${name}-lt`,
      LaunchTemplateData: {
        ImageId: imageId,
        InstanceType: 't3.micro',
        BlockDeviceMappings: options.dataVolume ? [{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 10, VolumeType: 'gp3', DeleteOnTermination: true } }] : undefined,
      },
    }),
  );
  const launchTemplateId = lt.LaunchTemplate!.LaunchTemplateId!;

  const tg = await clients.elbv2.send(
    new CreateTargetGroupCommand({ Name: `${name}-tg`, Protocol: 'HTTP', Port: 80, VpcId: vpcId, TargetType: 'instance', HealthCheckPath: '/healthz' }),
  );
  const targetGroupArn = tg.TargetGroups![0].TargetGroupArn!;
  const lb = await clients.elbv2.send(new CreateLoadBalancerCommand({ Name: `${name}-lb`, Subnets: [subnetId], Scheme: 'internet-facing', Type: 'application' }));
  const loadBalancerArn = lb.LoadBalancers![0].LoadBalancerArn!;
  await clients.elbv2.send(
    new CreateListenerCommand({ LoadBalancerArn: loadBalancerArn, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }] }),
  );

  const tags: Record<string, string> = {
    [READ_TAGS.managed]: 'true',
    [READ_TAGS.cluster]: name,
    [READ_TAGS.role]: options.role ?? 'public-web',
    [READ_TAGS.dataSensitivity]: options.dataSensitivity ?? 'low',
    ...Object.fromEntries(Object.entries(options.packages ?? DEMO_PACKAGES).map(([pkg, version]) => [`${READ_TAGS.packagePrefix}${pkg}`, version])),
    ...options.tags,
  };
  const autoScalingGroupName = `${name}-asg`;
  await clients.autoScaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: autoScalingGroupName,
      LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '$Latest' },
      // Min below desired: standby decrements the desired capacity, and AWS refuses to go below min.
      MinSize: Math.max(0, size - 2),
      MaxSize: size + 2,
      DesiredCapacity: size,
      VPCZoneIdentifier: subnetId,
      TargetGroupARNs: [targetGroupArn],
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value, PropagateAtLaunch: true, ResourceId: autoScalingGroupName, ResourceType: 'auto-scaling-group' })),
    }),
  );
  const group = await clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [autoScalingGroupName] }));
  const instanceIds = (group.AutoScalingGroups?.[0]?.Instances ?? []).map((i) => i.InstanceId!).sort();
  return { clusterId: name, vpcId, subnetId, launchTemplateId, autoScalingGroupName, targetGroupArn, loadBalancerArn, instanceIds };
}
