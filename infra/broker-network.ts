/**
 * VPC placement for private clusters: the functions' security group (egress HTTPS only) and the
 * VPC endpoints they need once they have no route to public AWS endpoints. The REST API stays
 * public (REGIONAL, AWS_IAM); only the functions move into the VPC.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import type { ResolvedBrokerProps, VpcEndpointService } from './props.js';

export interface BrokerNetwork {
  securityGroups: ec2.ISecurityGroup[];
  endpoints: Partial<Record<VpcEndpointService, ec2.IVpcEndpoint>>;
}

const INTERFACE_SERVICES: Record<Exclude<VpcEndpointService, 'dynamodb'>, ec2.InterfaceVpcEndpointAwsService> = {
  kms: ec2.InterfaceVpcEndpointAwsService.KMS,
  sts: ec2.InterfaceVpcEndpointAwsService.STS,
  eks: ec2.InterfaceVpcEndpointAwsService.EKS,
};
const ENDPOINT_IDS: Record<VpcEndpointService, string> = { dynamodb: 'DynamoDbEndpoint', kms: 'KmsEndpoint', sts: 'StsEndpoint', eks: 'EksEndpoint' };

export function createNetwork(scope: Construct, placement: NonNullable<ResolvedBrokerProps['vpc']>): BrokerNetwork {
  const { vpc, subnets } = placement;
  const securityGroups = placement.securityGroups ?? [functionsSecurityGroup(scope, vpc)];
  const endpoints: BrokerNetwork['endpoints'] = {};
  for (const service of placement.endpoints) {
    if (service === 'dynamodb') {
      // gateway endpoint: a route in the subnets' route tables, no ENI, no cost
      endpoints.dynamodb = new ec2.GatewayVpcEndpoint(scope, ENDPOINT_IDS.dynamodb, { vpc, service: ec2.GatewayVpcEndpointAwsService.DYNAMODB, subnets: [subnets ?? {}] });
      continue;
    }
    const endpoint = new ec2.InterfaceVpcEndpoint(scope, ENDPOINT_IDS[service], {
      vpc,
      service: INTERFACE_SERVICES[service],
      ...(subnets ? { subnets } : {}),
      privateDnsEnabled: true,
      // reachable from the functions only, not from the whole VPC
      open: false,
    });
    for (const sg of securityGroups) endpoint.connections.allowDefaultPortFrom(sg, 'kubelease functions');
    endpoints[service] = endpoint;
  }
  return { securityGroups, endpoints };
}

function functionsSecurityGroup(scope: Construct, vpc: ec2.IVpc): ec2.SecurityGroup {
  const sg = new ec2.SecurityGroup(scope, 'FunctionsSecurityGroup', {
    vpc,
    description: 'kubelease functions: HTTPS out to cluster API endpoints and AWS endpoints; allow it in each cluster security group',
    allowAllOutbound: false,
  });
  sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to EKS cluster endpoints and AWS service endpoints');
  // kube-apiserver's default secure port, for self-managed clusters (others: pass securityGroups)
  sg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(6443), 'HTTPS to self-managed Kubernetes API servers');
  return sg;
}
