// Deploy-time values for CloudFormation intrinsics, so the Values and Manifests of a synthesized template can be
// read the way Helm and the API server will read them. Each placeholder is valid for the field it lands in:
// a cluster name where a cluster name goes, a VPC id, a well-formed ARN of the referenced resource type, a bucket
// name S3 would accept. Fn::Join, Fn::Select, Fn::Split, Fn::Sub and Fn::ImportValue are evaluated, not guessed.

export const ACCOUNT = '123456789012';
export const DEFAULT_REGION = 'us-east-1';

type Json = unknown;
type Obj = Record<string, any>;

/** What the evaluator needs to know about the template an intrinsic sits in. */
export interface EvalContext {
  /** Stack name (for AWS::StackName). */
  readonly stackName: string;
  readonly region: string;
  /** Resources of the template, by logical id. */
  readonly resources: Record<string, Obj>;
  /** Parameters of the template, by name (their Default is used). */
  readonly parameters?: Record<string, Obj>;
  /** Resolves an Fn::ImportValue export name to its value in the exporting stack. */
  readonly importValue?: (name: string) => string;
}

/** A lower-case DNS-safe name derived from a logical id (bucket, cluster, role names), at most `max` characters. */
export function nameFor(logicalId: string, max = 63): string {
  const n = logicalId.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return (n || 'x').slice(0, max).replace(/-+$/, '');
}

function serviceOf(type: string): string {
  const svc = type.split('::')[1] ?? 'custom';
  return svc.toLowerCase();
}

/** The value `Ref` returns for a resource of the given type at deploy time. */
export function refPlaceholder(type: string, logicalId: string, region: string): string {
  const name = nameFor(logicalId);
  switch (type) {
    case 'AWS::EKS::Cluster': return name;
    case 'AWS::EC2::VPC': return 'vpc-0123456789abcdef0';
    case 'AWS::EC2::Subnet': return 'subnet-0123456789abcdef0';
    case 'AWS::EC2::SecurityGroup': return 'sg-0123456789abcdef0';
    case 'AWS::EFS::FileSystem': return 'fs-0123456789abcdef0';
    case 'AWS::EFS::AccessPoint': return 'fsap-0123456789abcdef0';
    case 'AWS::S3::Bucket': return name.length >= 3 ? name : `${name}-bucket`;
    case 'AWS::IAM::Role': return logicalId.slice(0, 64);
    case 'AWS::IAM::OIDCProvider':
    case 'Custom::AWSCDKOpenIdConnectProvider':
      return `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.${region}.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF`;
    case 'AWS::CertificateManager::Certificate': return `arn:aws:acm:${region}:${ACCOUNT}:certificate/11111111-2222-3333-4444-555555555555`;
    // A generated secret name is <LogicalId>-<12 random>; the ARN appends -<6 random> (CDK parses both forms).
    case 'AWS::SecretsManager::Secret': return `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${logicalId}-AbCdEfGhIjKl-XyZaBc`;
    case 'AWS::SNS::Topic': return `arn:aws:sns:${region}:${ACCOUNT}:${logicalId}`;
    case 'AWS::SQS::Queue': return `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${logicalId}`;
    case 'AWS::KMS::Key': return '11111111-2222-3333-4444-555555555555';
    case 'AWS::Logs::LogGroup': return `/fx/${name}`;
    case 'AWS::ECR::Repository': return name;
    case 'AWS::RDS::DBInstance': return name;
    case 'AWS::Lambda::Function': return name;
    default: return name;
  }
}

/** The value `Fn::GetAtt` returns for an attribute of a resource of the given type at deploy time. */
export function getAttPlaceholder(type: string, logicalId: string, attr: string, region: string): string {
  const ref = refPlaceholder(type, logicalId, region);
  switch (`${type}.${attr}`) {
    case 'AWS::EC2::VPC.CidrBlock': return '10.0.0.0/16';
    case 'AWS::EC2::VPC.VpcId': return ref;
    case 'AWS::EC2::SecurityGroup.GroupId': return ref;
    case 'AWS::EKS::Cluster.Endpoint': return `https://0123456789ABCDEF0123456789ABCDEF.gr7.${region}.eks.amazonaws.com`;
    case 'AWS::EKS::Cluster.OpenIdConnectIssuerUrl': return `https://oidc.eks.${region}.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF`;
    case 'AWS::EKS::Cluster.ClusterSecurityGroupId': return 'sg-0fedcba9876543210';
    case 'AWS::EKS::Cluster.CertificateAuthorityData': return 'Q0VSVElGSUNBVEU=';
    case 'AWS::EKS::Cluster.Arn': return `arn:aws:eks:${region}:${ACCOUNT}:cluster/${ref}`;
    case 'AWS::IAM::Role.Arn': return `arn:aws:iam::${ACCOUNT}:role/${ref}`;
    case 'AWS::IAM::Role.RoleId': return 'AROA0123456789EXAMPLE';
    case 'AWS::S3::Bucket.Arn': return `arn:aws:s3:::${ref}`;
    case 'AWS::S3::Bucket.DomainName': return `${ref}.s3.amazonaws.com`;
    case 'AWS::S3::Bucket.RegionalDomainName': return `${ref}.s3.${region}.amazonaws.com`;
    case 'AWS::SNS::Topic.TopicArn': return ref;
    case 'AWS::SQS::Queue.Arn': return `arn:aws:sqs:${region}:${ACCOUNT}:${logicalId}`;
    case 'AWS::SQS::Queue.QueueName': return logicalId;
    case 'AWS::KMS::Key.Arn': return `arn:aws:kms:${region}:${ACCOUNT}:key/${ref}`;
    case 'AWS::Logs::LogGroup.Arn': return `arn:aws:logs:${region}:${ACCOUNT}:log-group:${ref}:*`;
    case 'AWS::RDS::DBInstance.Endpoint.Address': return `${ref}.abcdefghijkl.${region}.rds.amazonaws.com`;
    case 'AWS::RDS::DBInstance.Endpoint.Port': return '5432';
    case 'AWS::ECR::Repository.RepositoryUri': return `${ACCOUNT}.dkr.ecr.${region}.amazonaws.com/${ref}`;
    case 'AWS::EFS::FileSystem.FileSystemId': return ref;
    default:
      if (attr === 'Arn' || attr.endsWith('Arn')) return `arn:aws:${serviceOf(type)}:${region}:${ACCOUNT}:${nameFor(type.split('::')[2] ?? 'resource')}/${logicalId}`;
      return `${nameFor(logicalId)}-${nameFor(attr)}`;
  }
}

function pseudo(name: string, ctx: EvalContext): string | undefined {
  switch (name) {
    case 'AWS::Region': return ctx.region;
    case 'AWS::AccountId': return ACCOUNT;
    case 'AWS::Partition': return 'aws';
    case 'AWS::URLSuffix': return 'amazonaws.com';
    case 'AWS::StackName': return ctx.stackName;
    case 'AWS::StackId': return `arn:aws:cloudformation:${ctx.region}:${ACCOUNT}:stack/${ctx.stackName}/11111111-2222-3333-4444-555555555555`;
    case 'AWS::NoValue': return '';
    default: return undefined;
  }
}

function refOf(name: string, ctx: EvalContext): string {
  const p = pseudo(name, ctx);
  if (p !== undefined) return p;
  const param = ctx.parameters?.[name];
  if (param) return String(param.Default ?? nameFor(name));
  const res = ctx.resources[name];
  if (!res) throw new Error(`Ref to unknown resource ${name}`);
  return refPlaceholder(res.Type, name, ctx.region);
}

function getAttOf(logicalId: string, attr: string, ctx: EvalContext): string {
  const res = ctx.resources[logicalId];
  if (!res) throw new Error(`Fn::GetAtt of unknown resource ${logicalId}`);
  // CfnJson publishes its (evaluated) Value property as the Value attribute.
  if (res.Type === 'Custom::AWSCDKCfnJson' && attr === 'Value') return evaluate(res.Properties?.Value, ctx);
  return getAttPlaceholder(res.Type, logicalId, attr, ctx.region);
}

/** Evaluates an intrinsic (or a literal) to the string it becomes at deploy time. */
export function evaluate(value: Json, ctx: EvalContext): string {
  const v = evaluateValue(value, ctx);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Evaluates intrinsics anywhere inside a value, keeping its JSON shape (lists stay lists). */
export function evaluateValue(value: Json, ctx: EvalContext): Json {
  if (Array.isArray(value)) return value.map((x) => evaluateValue(x, ctx));
  if (!value || typeof value !== 'object') return value;
  const o = value as Obj;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    const [k] = keys;
    const arg = o[k];
    switch (k) {
      case 'Ref': return refOf(arg, ctx);
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(arg) ? arg : String(arg).split(/\.(.+)/);
        return getAttOf(id, attr, ctx);
      }
      case 'Fn::Join': return (arg[1] as Json[]).map((p) => evaluate(p, ctx)).join(arg[0]);
      case 'Fn::Select': {
        const list = evaluateValue(arg[1], ctx);
        if (!Array.isArray(list)) throw new Error(`Fn::Select of a non-list: ${JSON.stringify(arg[1]).slice(0, 120)}`);
        const i = Number(arg[0]);
        if (i >= list.length) throw new Error(`Fn::Select index ${i} out of range for [${list.join(', ')}]`);
        return list[i];
      }
      case 'Fn::Split': return evaluate(arg[1], ctx).split(arg[0]);
      case 'Fn::Sub': {
        const [template, vars] = Array.isArray(arg) ? arg : [arg, {}];
        return String(template).replace(/\$\{([^}!]+)\}/g, (_m: string, name: string) => {
          if (vars && name in vars) return evaluate(vars[name], ctx);
          if (name.includes('.')) { const [id, attr] = name.split(/\.(.+)/); return getAttOf(id, attr, ctx); }
          return refOf(name, ctx);
        });
      }
      case 'Fn::ImportValue': {
        const exportName = evaluate(arg, ctx);
        if (!ctx.importValue) throw new Error(`Fn::ImportValue ${exportName} without an assembly`);
        return ctx.importValue(exportName);
      }
      case 'Fn::GetAZs': return [`${ctx.region}a`, `${ctx.region}b`, `${ctx.region}c`];
      case 'Fn::Base64': return Buffer.from(evaluate(arg, ctx)).toString('base64');
      case 'Fn::If': return evaluateValue(arg[1], ctx);
      default: break;
    }
  }
  const out: Obj = {};
  for (const [k, x] of Object.entries(o)) out[k] = evaluateValue(x, ctx);
  return out;
}
