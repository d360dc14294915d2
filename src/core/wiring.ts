import * as eks from 'aws-cdk-lib/aws-eks-v2';

/**
 * Names shared between the constructs that install platform components and the constructs that use
 * them (internal, not exported from the package). One place, so an add-on and its consumers cannot drift.
 */
export const WIRING = {
  traefik: {
    namespace: 'traefik',
    /** Labels of the Traefik pods (NetworkPolicy ingress source). */
    podLabels: { 'app.kubernetes.io/name': 'traefik' } as Record<string, string>,
    /** Entry point behind the ALB (TLS terminated at the ALB) or the HTTP entry point of the NLB path. */
    webEntryPoint: 'web',
    /** TLS entry point (Let's Encrypt path: Traefik terminates TLS). */
    websecureEntryPoint: 'websecure',
    /** Shared middlewares, in the Traefik namespace. */
    middlewares: {
      secureHeaders: 'fx-secure-headers',
      httpsRedirect: 'fx-https-redirect',
      rateLimit: 'fx-rate-limit',
      ipAllowList: 'fx-ip-allowlist',
    },
    /** The default TLSOption (minimum TLS 1.2, modern ciphers) in the Traefik namespace. */
    tlsOption: 'default',
    /** Secret holding the wildcard certificate on the Let's Encrypt path. */
    certificateSecret: 'fx-wildcard-tls',
  },
  externalSecrets: {
    namespace: 'external-secrets',
    /** ClusterSecretStore reading AWS Secrets Manager in the stack's region. */
    clusterSecretStore: 'fx-secrets-manager',
    apiVersion: 'external-secrets.io/v1',
  },
  monitoring: {
    namespace: 'monitoring',
    /** Labels of the Prometheus pods (NetworkPolicy ingress source for scraping). */
    prometheusPodLabels: { 'app.kubernetes.io/name': 'prometheus' } as Record<string, string>,
  },
} as const;

/**
 * The taint (and label) every spot node group and Karpenter spot pool carries; workloads that may run
 * on spot (FxMicroservice `spot: true`) tolerate it.
 */
export const SPOT_TAINT = { key: 'fx.platform/capacity', value: 'spot', effect: eks.TaintEffect.NO_SCHEDULE };
