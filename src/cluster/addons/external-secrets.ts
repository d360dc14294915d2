import { Lazy, Stack, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IConstruct } from 'constructs';
import { addonNamespace, addonReplicas, controllerResources, namespaceCapability } from './common';
import { FxValidationError } from '../../core/errors';
import { declareFlow } from '../../core/flows';
import { FxCapability } from '../../core/install-order';
import { chartLabels } from '../../core/tags';
import { WIRING } from '../../core/wiring';
import { KubeObject, KubeServiceAccount } from '../../k8s/api.generated';
import { KubeSecretStore } from '../../k8s/crds.generated';
import { FxAddonOptions } from '../addon';
import { mergeValues } from '../addon-values';
import type { IFxCluster } from '../contract';
import { acknowledgeRoleInlinePolicy } from '../nag';

const SERVICE_ACCOUNT = 'external-secrets';
/** Audience of the service account tokens External Secrets exchanges with STS (its default for the AWS provider). */
export const STS_AUDIENCE = 'sts.amazonaws.com';
/** Name of the SecretStore (and of its service account) in each platform namespace that syncs secrets. */
export const PLATFORM_SECRET_STORE = 'fx-secrets';

/** Construct id of the cluster's OIDC provider, a child of the cluster. */
const OIDC_PROVIDER_ID = 'OidcProvider';

type Json = Record<string, any>;

/**
 * The cluster's IAM OIDC identity provider (native `AWS::IAM::OIDCProvider`, audience
 * `sts.amazonaws.com`), created under the cluster on first use: one per cluster, shared by every
 * IRSA trust (namespace SecretStores, the Elasticsearch snapshot role).
 *
 * @internal
 */
export function clusterOidcProvider(cluster: IFxCluster): iam.IOidcProvider {
  const existing = cluster.node.tryFindChild(OIDC_PROVIDER_ID);
  if (existing) return existing as iam.OidcProviderNative;
  const path = cluster.node.path;
  const eksCluster = cluster.cluster;
  if (!(eksCluster instanceof eks.Cluster) || !Construct.isConstruct(cluster)) {
    // An imported cluster's provider, when its attributes name one (FxCluster's own is created below).
    if (cluster.openIdConnectProvider) return cluster.openIdConnectProvider;
    throw new FxValidationError('FxCluster', 'cluster', path,
      'a cluster FxCluster creates: IRSA trusts (namespace SecretStores, Elasticsearch snapshots) need its OIDC issuer, which an imported cluster does not expose');
  }
  return new iam.OidcProviderNative(cluster, OIDC_PROVIDER_ID, {
    url: eksCluster.clusterOpenIdConnectIssuerUrl,
    clientIds: [STS_AUDIENCE],
  });
}

/**
 * External Secrets Operator, whose own Pod Identity role has no permissions, and no cluster-wide
 * store.
 *
 * Secrets are scoped per namespace: each namespace that syncs secrets has its own `SecretStore`
 * (`auth.jwt.serviceAccountRef`) naming a service account of that namespace, annotated with an
 * IAM role whose trust admits only that service account's tokens (IRSA, exact `sub` and `aud`)
 * and whose policy reads only the secrets granted to that namespace's owner. A namespaced
 * SecretStore can only name service accounts of its own namespace, so no namespace can borrow
 * another's identity; and a store without `auth` falls back to the controller's credentials,
 * which have no AWS permissions at all. The controller keeps its Pod Identity service account
 * (with a role nothing is granted to) so that upgrading a deployed platform replaces no service
 * account Helm would have to adopt.
 *
 * Order: namespace, service account, chart (`wait`, provides the CRDs and the webhook). The
 * stores live in the manifests of the namespaces they serve, installed after the chart.
 *
 * @internal
 */
export class ExternalSecretsAddon {
  public readonly namespace: eks.KubernetesManifest;
  /** The controller's service account: its Pod Identity role is granted nothing. */
  public readonly serviceAccount: eks.ServiceAccount;
  public readonly chart: eks.HelmChart;
  /**
   * Always undefined: there is no cluster-wide store (secrets are scoped per namespace). Kept only
   * while FxExternalSecretsAddon (addons/builtins.ts) still reads it.
   */
  public readonly clusterSecretStore?: eks.KubernetesManifest = undefined;

  constructor(cluster: IFxCluster, options: FxAddonOptions = {}) {
    const ns = WIRING.externalSecrets.namespace;
    const replicas = addonReplicas(cluster);
    this.namespace = addonNamespace(cluster, 'ExternalSecretsNamespace', ns, 'external-secrets', 'restricted');
    this.serviceAccount = cluster.addPodIdentityServiceAccount('ExternalSecretsServiceAccount', {
      name: SERVICE_ACCOUNT, namespace: ns, needs: [namespaceCapability(ns)],
    });

    this.chart = cluster.addHelmChart('ExternalSecrets', {
      chart: cluster.versions.charts.externalSecrets,
      version: options.version,
      namespace: ns,
      release: 'external-secrets',
      createNamespace: false,
      wait: true,
      values: mergeValues({
        installCRDs: true,
        replicaCount: replicas,
        commonLabels: chartLabels(cluster.platformName, 'external-secrets'),
        // Every store authenticates with its own namespace's service account, not with this one.
        serviceAccount: { create: false, name: SERVICE_ACCOUNT },
        podDisruptionBudget: { enabled: replicas > 1, minAvailable: 1 },
        resources: controllerResources('50m', '128Mi', '256Mi'),
        webhook: {
          replicaCount: replicas,
          podDisruptionBudget: { enabled: replicas > 1, minAvailable: 1 },
          resources: controllerResources('25m', '64Mi', '128Mi'),
        },
        certController: { resources: controllerResources('25m', '64Mi', '256Mi') },
      }, options.values),
      needs: [namespaceCapability(ns), FxCapability.POD_IDENTITY],
      // CLUSTER_SECRET_STORE (FxExternalSecretsAddon.provides): no cluster-wide store exists; what its
      // consumers need is the chart, after which each namespace creates its own store.
      provides: [FxCapability.EXTERNAL_SECRETS_CRDS, FxCapability.EXTERNAL_SECRETS_WEBHOOK, FxCapability.CLUSTER_SECRET_STORE],
    });
    this.chart.node.addDependency(this.serviceAccount);
    // STS (AssumeRoleWithWebIdentity with the store's service account token) and Secrets Manager.
    declareFlow(this.chart, {
      from: { namespace: ns, serviceAccount: SERVICE_ACCOUNT },
      to: { awsEndpoints: true },
      port: 443,
      protocol: 'TCP',
      reason: 'External Secrets calls STS and Secrets Manager for the namespaces\' stores',
      expect: 'allow',
    });
  }

  /**
   * Refuses the grant: the operator's own role reads nothing. A namespace's secrets are read by its own
   * SecretStore's role (FxMicroservice grants its `secretEnv`, `database` and `basicAuth` secrets to
   * its own; `platformSecretStore` for platform namespaces).
   */
  public grantRead(secret: secretsmanager.ISecret): void {
    throw new FxValidationError('FxCluster', 'grantExternalSecretRead', secret.node.path,
      'no grant to the External Secrets Operator (its own role reads nothing): secrets are read by the SecretStore of the namespace '
      + 'that syncs them, whose role the namespace\'s owner grants (FxMicroservice grants its own secretEnv, database and basicAuth secrets)');
  }
}

/** Inputs of `secretStoreObjects`. @internal */
export interface SecretStoreSpec {
  /** Namespace of the store and its service account. */
  readonly namespace: string;
  /** Name of the SecretStore and of its service account. */
  readonly name: string;
  /** ARN of the IAM role the service account is annotated with (trusted by `trustServiceAccount`). */
  readonly roleArn: string;
  /** Region of Secrets Manager. */
  readonly region: string;
  readonly labels: Record<string, string>;
}

/**
 * The service account (no pods run as it: no token mounted) and the namespaced SecretStore that
 * exchanges its tokens for the annotated role's credentials. ExternalSecrets of the namespace
 * reference the store as `{ kind: 'SecretStore', name }`.
 *
 * @internal
 */
export function secretStoreObjects(spec: SecretStoreSpec): KubeObject[] {
  const metadata = { name: spec.name, namespace: spec.namespace, labels: spec.labels };
  return [
    KubeServiceAccount.manifest({
      metadata: { ...metadata, annotations: { 'eks.amazonaws.com/role-arn': spec.roleArn } },
      automountServiceAccountToken: false,
    }),
    KubeSecretStore.manifest({
      metadata,
      spec: {
        provider: {
          aws: {
            service: 'SecretsManager',
            region: spec.region,
            // A namespaced store: serviceAccountRef.namespace is not allowed, the store's own namespace is used.
            auth: { jwt: { serviceAccountRef: { name: spec.name } } },
          },
        },
      },
    }),
  ];
}

/**
 * Lets the tokens of one service account (`system:serviceaccount:<namespace>:<serviceAccount>`,
 * audience `sts.amazonaws.com`) assume `role` through the cluster's OIDC provider, beside the
 * role's other trust statements (or instead of them with `only`).
 *
 * The condition keys name the cluster's issuer, known only at deploy time: the trust policy is
 * rendered as a JSON string (CloudFormation accepts a string or an object for
 * `AssumeRolePolicyDocument`), so no CfnJson custom resource is needed per role.
 *
 * @internal
 */
export function trustServiceAccount(role: iam.Role, cluster: IFxCluster, namespace: string, serviceAccount: string, only = false): void {
  const provider = clusterOidcProvider(cluster);
  const issuer = provider.oidcProviderIssuer;
  const stack = Stack.of(role);
  const webIdentity = {
    Effect: 'Allow',
    Principal: { Federated: provider.oidcProviderArn },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: {
      StringEquals: {
        [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
        [`${issuer}:aud`]: STS_AUDIENCE,
      },
    },
  };
  const base = role.assumeRolePolicy;
  const cfn = role.node.defaultChild as iam.CfnRole;
  cfn.assumeRolePolicyDocument = Lazy.any({
    produce: () => {
      const others: Json[] = only || !base ? [] : (base.toJSON()?.Statement ?? []);
      const document = { Version: '2012-10-17', Statement: [...others, webIdentity] };
      // Only a deploy-time issuer makes keys tokens; a literal one (an imported provider) keeps the object CfnRole validates.
      return Token.isUnresolved(issuer) ? stack.toJsonString(document) : document;
    },
  });
}

/**
 * Statements that let a store's role read one secret: `GetSecretValue`/`DescribeSecret` on its
 * ARN (with the random suffix Secrets Manager appends when only the name is known) and, for a
 * customer-managed key, `kms:Decrypt` only through Secrets Manager in the stack's region.
 *
 * @internal
 */
export function secretReadStatements(scope: Construct, secret: secretsmanager.ISecret): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const arn = secret.secretFullArn ?? `${secret.secretArn}-??????`;
  const statements = [new iam.PolicyStatement({
    actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
    resources: [arn],
  })];
  if (secret.encryptionKey) {
    statements.push(new iam.PolicyStatement({
      actions: ['kms:Decrypt'],
      resources: [secret.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.${stack.urlSuffix}` } },
    }));
  }
  return statements;
}

/** A platform namespace's SecretStore: its objects and the role behind it. @internal */
export interface PlatformSecretStore {
  /** The role only the store's service account may assume; it reads exactly the given secrets. */
  readonly role: iam.Role;
  /** Service account and SecretStore, to put first in the namespace's secrets manifest. */
  readonly objects: KubeObject[];
  /** What the namespace's ExternalSecrets put in `secretStoreRef`. */
  readonly storeRef: { readonly kind: string; readonly name: string };
}

/**
 * The SecretStore of a platform namespace (monitoring, logging) and its role: trusted only by
 * `system:serviceaccount:<namespace>:fx-secrets`, reading only `secrets` (inline policy).
 *
 * @internal
 */
export function platformSecretStore(scope: IConstruct, id: string, cluster: IFxCluster, namespace: string,
  secrets: secretsmanager.ISecret[], labels: Record<string, string>): PlatformSecretStore {
  const path = scope.node.path;
  if (!Construct.isConstruct(scope)) throw new Error(`unreachable: ${path} is not a construct`);
  const policy = new iam.PolicyDocument();
  const seen = new Set<secretsmanager.ISecret>();
  for (const secret of secrets) {
    if (seen.has(secret)) continue;
    seen.add(secret);
    policy.addStatements(...secretReadStatements(scope, secret));
  }
  const role = new iam.Role(scope, id, {
    description: `Fx platform ${cluster.platformName}: SecretStore ${namespace}/${PLATFORM_SECRET_STORE} (reads only the ${namespace} secrets)`,
    assumedBy: new iam.FederatedPrincipal(clusterOidcProvider(cluster).oidcProviderArn, {}, 'sts:AssumeRoleWithWebIdentity'),
    inlinePolicies: { SecretsManagerRead: policy },
  });
  trustServiceAccount(role, cluster, namespace, PLATFORM_SECRET_STORE, true);
  acknowledgeRoleInlinePolicy(role, `the ${namespace} SecretStore role`);
  const objects = secretStoreObjects({ namespace, name: PLATFORM_SECRET_STORE, roleArn: role.roleArn, region: Stack.of(cluster).region, labels });
  return { role, objects, storeRef: { kind: 'SecretStore', name: PLATFORM_SECRET_STORE } };
}

/**
 * A workload's Pod Identity role that also backs its namespace's SecretStore, with every policy
 * inline in the role (no separate `AWS::IAM::Policy` resource per workload):
 *
 * - `Grants`: whatever is granted to the workload (`addToPrincipalPolicy`, so `bucket.grantRead(service)`
 *   lands here), which the pods use;
 * - `SecretStoreRead`: the secrets the namespace's SecretStore may sync (`allowStoreRead`), read by
 *   the External Secrets Operator with the store's service account token (the pods could read
 *   them too: they are the workload's own secrets).
 *
 * Both documents are rendered at synth, so grants made after the constructor are included; an
 * empty document is left out.
 *
 * @internal
 */
export class WorkloadStoreRole extends iam.Role {
  private readonly grantsDocument = new iam.PolicyDocument();
  private readonly storeReads = new iam.PolicyDocument();
  private readonly storeSecrets = new Set<secretsmanager.ISecret>();

  constructor(scope: Construct, id: string, props: iam.RoleProps) {
    super(scope, id, props);
    const cfn = this.node.defaultChild as iam.CfnRole;
    cfn.policies = Lazy.any({
      produce: () => {
        const policies = [
          { policyName: 'Grants', policyDocument: this.grantsDocument },
          { policyName: 'SecretStoreRead', policyDocument: this.storeReads },
        ].filter((p) => !p.policyDocument.isEmpty);
        // An empty list, never undefined: rules that read the property (cdk-nag's) resolve it and iterate.
        return policies;
      },
    });
    acknowledgeRoleInlinePolicy(this, `the workload role ${this.node.path}`);
  }

  /** Grants go into the role's inline `Grants` policy. */
  public addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.grantsDocument.addStatements(statement);
    return { statementAdded: true, policyDependable: this };
  }

  /** Lets the namespace's SecretStore (and the workload) read one secret; once per secret. */
  public allowStoreRead(secret: secretsmanager.ISecret): void {
    if (this.storeSecrets.has(secret)) return;
    this.storeSecrets.add(secret);
    this.storeReads.addStatements(...secretReadStatements(this, secret));
  }

  /** Whether anything was granted to the workload itself (store reads do not count: the operator makes those calls). */
  public get hasGrants(): boolean {
    return !this.grantsDocument.isEmpty;
  }

  /** Whether the namespace's SecretStore may read any secret. */
  public get hasStoreReads(): boolean {
    return this.storeSecrets.size > 0;
  }
}
