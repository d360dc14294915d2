// The confused-deputy check: every resource policy statement that lets an AWS service in must carry
// aws:SourceArn or aws:SourceAccount. Used by test/examples.test.ts (on every example) and proven on
// fixtures by test/service-principals.test.ts.
export type Obj = Record<string, any>;

/** The resource policies in which a service principal may be let in, and where their document is. */
const POLICY_DOCUMENT: Record<string, string> = {
  'AWS::SNS::TopicPolicy': 'PolicyDocument',
  'AWS::KMS::Key': 'KeyPolicy',
  'AWS::SQS::QueuePolicy': 'PolicyDocument',
  'AWS::S3::BucketPolicy': 'PolicyDocument',
};

/** The global condition keys that tie a service's request to our own resource or account (confused deputy). */
const SOURCE_KEYS = ['aws:sourcearn', 'aws:sourceaccount'];

function conditionKeys(statement: Obj): string[] {
  return Object.values<Obj>(statement.Condition ?? {}).flatMap((byKey) => Object.keys(byKey).map((k) => k.toLowerCase()));
}

/**
 * The one documented exception: CloudWatch Logs uses a KMS key in the name of a log group, and AWS
 * documents the key policy statement for it with the `kms:EncryptionContext:aws:logs:arn` condition
 * (the log group's ARN is the encryption context of every call), not with aws:SourceArn/SourceAccount
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html). That condition
 * is the source ARN in all but name; it passes only when it names log groups of this account.
 */
function logsEncryptionContextOfAccount(type: string, service: string, statement: Obj, account: string): boolean {
  if (type !== 'AWS::KMS::Key' || !/^logs\.[a-z0-9-]+\.amazonaws\.com$/.test(service)) return false;
  const context = Object.values<Obj>(statement.Condition ?? {}).map((byKey) => byKey['kms:EncryptionContext:aws:logs:arn']).filter((v) => v !== undefined);
  if (context.length === 0) return false;
  const text = JSON.stringify(context);
  return text.includes(':logs:') && (text.includes(`:${account}:`) || text.includes('AWS::AccountId'));
}

/**
 * Every `Allow` statement of a topic, key, queue or bucket policy whose principal includes an AWS
 * service and that carries neither aws:SourceArn nor aws:SourceAccount (any operator), as
 * `<type> <logical id> <service>: <actions>`.
 */
export function unscopedServiceStatements(template: Obj, account: string): string[] {
  const found: string[] = [];
  for (const [id, resource] of Object.entries<Obj>(template.Resources ?? {})) {
    const field = POLICY_DOCUMENT[resource.Type];
    const document = field ? resource.Properties?.[field] : undefined;
    if (!document) continue;
    const statements: Obj[] = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
    for (const statement of statements) {
      if (statement.Effect !== 'Allow' || statement.Principal?.Service === undefined) continue;
      const services: unknown[] = [statement.Principal.Service].flat();
      const scoped = conditionKeys(statement).some((k) => SOURCE_KEYS.includes(k));
      for (const service of services) {
        const name = typeof service === 'string' ? service : JSON.stringify(service);
        if (scoped || logsEncryptionContextOfAccount(resource.Type, name, statement, account)) continue;
        found.push(`${resource.Type} ${id} ${name}: ${[statement.Action].flat().join(',')}`);
      }
    }
  }
  return found.sort();
}

/** Every service principal let in by one of those policies (scoped or not), to prove the walk sees them. */
export function servicePrincipals(template: Obj): string[] {
  const seen = new Set<string>();
  for (const resource of Object.values<Obj>(template.Resources ?? {})) {
    const field = POLICY_DOCUMENT[resource.Type];
    for (const statement of [resource.Properties?.[field]?.Statement ?? []].flat()) {
      if (statement.Effect === 'Allow' && statement.Principal?.Service) [statement.Principal.Service].flat().forEach((s: unknown) => seen.add(String(s)));
    }
  }
  return [...seen].sort();
}

