import { Duration, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { addonNamespace, controllerResources, namespaceCapability, zoneSpread } from './common';
import { elbHostedZoneId, loadBalancerAlias, platformAlbName } from './dns';
import { check, isIpv4Cidr, isIpv4Network, profileSuffix } from '../../core/errors';
import { FxCapability } from '../../core/install-order';
import { chartLabels, platformLabels } from '../../core/tags';
import { WIRING } from '../../core/wiring';
import { KubeIngress, KubeIngressManifest, KubeObject } from '../../k8s/api.generated';
import { KubeMiddleware, KubeTLSOption, KubeTLSStore } from '../../k8s/crds.generated';
import { mergeValues } from '../addon-values';
import type { IFxCluster } from '../contract';
import { FxRateLimit } from '../props';
import { FxTls, FxTlsMode } from '../tls';

const WHO = 'FxCluster';
const RELEASE = 'traefik';
/** SSL policy of the ALB's HTTPS listener: TLS 1.2 and 1.3 with forward-secret AEAD ciphers only. */
export const ALB_SSL_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';
/** Traefik's internal entry point: /ping for health checks, the dashboard API (never exposed). */
const TRAEFIK_PORT = 8080;
const METRICS_PORT = 9100;
/** The load balancer class the AWS Load Balancer Controller reconciles as an NLB. */
export const NLB_CLASS = 'service.k8s.aws/nlb';
/** TLS 1.2 suites with forward secrecy and AEAD; TLS 1.3 suites are not configurable (all are modern). */
export const TLS12_CIPHER_SUITES = [
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
];

/** @internal */
export interface TraefikAddonProps {
  readonly tls?: FxTls;
  readonly replicas: number;
  /** The profile's name when `replicas` is its default. */
  readonly replicasFromProfile?: string;
  /** Set when the add-on was built by the user (`FxTraefikAddon`): messages name its options, not FxCluster's ingress props. */
  readonly optionsProp?: string;
  readonly rateLimit: FxRateLimit;
  readonly ipAllowlist: string[];
  readonly values?: { [key: string]: any };
  readonly version?: string;
}

/**
 * Traefik, the platform's ingress controller, and what fronts it.
 *
 * - Chart: CRD and Ingress providers (cross-namespace references allowed, so services use the
 *   shared middlewares and TLSOption in the `traefik` namespace), JSON logs and access logs,
 *   Prometheus metrics, dashboard not routed; replicas from the profile with a PodDisruptionBudget
 *   and zone spread.
 * - Shared objects (one manifest): the `default` TLSOption (TLS 1.2+, modern ciphers), the
 *   `fx-secure-headers`, `fx-https-redirect`, `fx-rate-limit` and `fx-ip-allowlist` middlewares,
 *   and on the Let's Encrypt path the default TLSStore with the wildcard certificate.
 * - ACM path: an ACM certificate and an Ingress (class `alb`) from which the Load Balancer
 *   Controller builds an internet-facing ALB (HTTPS with the TLS 1.2+ policy, HTTP redirected),
 *   forwarding to Traefik's `web` entry point; Route 53 alias records read the ALB's DNS name from
 *   the Ingress status (`KubernetesObjectValue`).
 * - Let's Encrypt path: Traefik's own Service becomes an internet-facing NLB (IP targets);
 *   `web` redirects to `websecure`; alias records read the NLB name from the Service status.
 *
 * Order: the chart needs the Load Balancer Controller (its Service and the Ingress are
 * reconciled by it, and must be deleted while it still runs) and provides the Traefik CRDs.
 *
 * @internal
 */
export class TraefikAddon {
  public readonly namespace: eks.KubernetesManifest;
  public readonly chart: eks.HelmChart;
  public readonly sharedObjects: KubeObject[];
  public readonly sharedManifest: eks.KubernetesManifest;
  public readonly certificate?: acm.Certificate;
  public readonly ingressObject?: KubeIngressManifest;
  public readonly ingress?: eks.KubernetesManifest;
  public readonly loadBalancerDnsName?: string;
  public readonly records: route53.ARecord[] = [];

  constructor(private readonly cluster: IFxCluster, private readonly scope: Construct, props: TraefikAddonProps) {
    validate(props);
    const ns = WIRING.traefik.namespace;
    const tls = props.tls;
    const letsEncrypt = tls?.mode === FxTlsMode.LETS_ENCRYPT;
    const behindAlb = tls?.mode === FxTlsMode.ACM;
    const strictSpread = cluster.profile.settings.strictZoneSpread;

    this.namespace = addonNamespace(cluster, 'TraefikNamespace', ns, 'traefik', 'restricted');
    this.chart = cluster.addHelmChart('Traefik', {
      chart: cluster.versions.charts.traefik,
      version: props.version,
      namespace: ns,
      release: RELEASE,
      createNamespace: false,
      wait: true,
      values: mergeValues(this.values(props, letsEncrypt, behindAlb, strictSpread), props.values),
      needs: [namespaceCapability(ns), FxCapability.AWS_LOAD_BALANCER_CONTROLLER],
      provides: [FxCapability.TRAEFIK_CRDS],
    });

    this.sharedObjects = sharedObjects(cluster, props, behindAlb, letsEncrypt);
    this.sharedManifest = cluster.addManifest('TraefikShared', ...this.sharedObjects);
    cluster.installAfter(this.sharedManifest, FxCapability.TRAEFIK_CRDS);
    cluster.registerProvider(this.sharedManifest, FxCapability.TRAEFIK_MIDDLEWARES);

    if (tls && behindAlb) {
      this.certificate = new acm.Certificate(scope, 'Certificate', {
        domainName: tls.domainName,
        subjectAlternativeNames: [`*.${tls.domainName}`],
        validation: acm.CertificateValidation.fromDns(tls.hostedZone),
      });
      this.ingressObject = albIngress(cluster, this.certificate.certificateArn);
      this.ingress = cluster.addManifest('TraefikIngress', this.ingressObject);
      cluster.installAfter(this.ingress, FxCapability.AWS_LOAD_BALANCER_CONTROLLER, FxCapability.TRAEFIK_CRDS);
      this.loadBalancerDnsName = this.readHostname('LoadBalancerHostname', 'ingress', this.ingress);
      this.addRecords(tls, elbHostedZoneId(cluster, 'alb', WHO));
    } else if (tls && letsEncrypt) {
      this.loadBalancerDnsName = this.readHostname('LoadBalancerHostname', 'service', this.chart);
      this.addRecords(tls, elbHostedZoneId(cluster, 'nlb', WHO));
    }
  }

  private values(props: TraefikAddonProps, letsEncrypt: boolean, behindAlb: boolean, strictSpread: boolean): Record<string, any> {
    const podLabels = WIRING.traefik.podLabels;
    const vpcRanges = defaultIpAllowlist(this.cluster);
    return {
      deployment: {
        replicas: props.replicas,
        podAnnotations: {
          'prometheus.io/scrape': 'true',
          'prometheus.io/port': String(METRICS_PORT),
          'prometheus.io/path': '/metrics',
        },
      },
      commonLabels: chartLabels(this.cluster.platformName, 'traefik'),
      // A deploy-time count gets the budget that suits any count: one pod at a time may be evicted.
      podDisruptionBudget: Token.isUnresolved(props.replicas) ? { enabled: true, maxUnavailable: 1 }
        : props.replicas > 1 ? { enabled: true, minAvailable: 1 } : { enabled: false },
      topologySpreadConstraints: zoneSpread(podLabels, strictSpread),
      resources: controllerResources('100m', '128Mi', '512Mi'),
      global: { checkNewVersion: false, sendAnonymousUsage: false },
      providers: {
        kubernetesCRD: { enabled: true, allowCrossNamespace: true },
        kubernetesIngress: { enabled: true },
      },
      log: { format: 'json', level: 'INFO' },
      accessLog: { enabled: true, format: 'json' },
      metrics: {
        prometheus: {
          entryPoint: 'metrics',
          addEntryPointsLabels: true,
          addRoutersLabels: true,
          addServicesLabels: true,
          service: { enabled: true },
        },
      },
      // The dashboard stays on the internal 'traefik' entry point (port-forward only), never routed.
      ingressRoute: { dashboard: { enabled: false } },
      ports: {
        traefik: { port: TRAEFIK_PORT, expose: { default: false } },
        metrics: { port: METRICS_PORT, expose: { default: false } },
        web: {
          // Behind the ALB, X-Forwarded-* from the VPC (the ALB's nodes) carry the client address and scheme.
          forwardedHeaders: { trustedIPs: behindAlb ? vpcRanges : [] },
          ...(letsEncrypt ? { http: { redirections: { entryPoint: { to: WIRING.traefik.websecureEntryPoint, scheme: 'https', permanent: true } } } } : {}),
        },
        websecure: { expose: { default: letsEncrypt } },
      },
      service: letsEncrypt
        ? {
          annotations: {
            'service.beta.kubernetes.io/aws-load-balancer-type': 'external',
            'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing',
            'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
            'service.beta.kubernetes.io/aws-load-balancer-attributes': 'load_balancing.cross_zone.enabled=true',
            'service.beta.kubernetes.io/aws-load-balancer-healthcheck-port': String(TRAEFIK_PORT),
            'service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol': 'http',
            'service.beta.kubernetes.io/aws-load-balancer-healthcheck-path': '/ping',
            // IP targets hide the client address unless the NLB preserves it: rate limits and IP
            // allowlists then see the real client (Traefik's remote address), not NLB nodes.
            'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes': 'preserve_client_ip.enabled=true',
          },
          // Named explicitly: the controller's Service mutating webhook (which would set it) is off.
          spec: { type: 'LoadBalancer', loadBalancerClass: NLB_CLASS },
        }
        // ACM path and no domain: reachable in the cluster (and by the ALB's IP targets) only.
        : { spec: { type: 'ClusterIP' } },
    };
  }

  private readHostname(id: string, kind: 'ingress' | 'service', dependsOn: eks.KubernetesManifest | eks.HelmChart): string {
    const value = new eks.KubernetesObjectValue(this.scope, id, {
      cluster: this.cluster.cluster,
      objectType: kind,
      objectName: RELEASE,
      objectNamespace: WIRING.traefik.namespace,
      jsonPath: '.status.loadBalancer.ingress[0].hostname',
      // The controller provisions the load balancer after the object is applied.
      timeout: Duration.minutes(10),
    });
    value.node.addDependency(dependsOn);
    return value.value;
  }

  private addRecords(tls: FxTls, hostedZoneId: string): void {
    const target = loadBalancerAlias(this.loadBalancerDnsName!, hostedZoneId);
    const apex = new route53.ARecord(this.scope, 'DomainRecord', { zone: tls.hostedZone, recordName: `${tls.domainName}.`, target });
    const wildcard = new route53.ARecord(this.scope, 'WildcardRecord', { zone: tls.hostedZone, recordName: `*.${tls.domainName}.`, target });
    this.records.push(apex, wildcard);
  }
}

function validate(props: TraefikAddonProps): void {
  const { average, burst } = props.rateLimit;
  const own = props.optionsProp;
  const rateLimit = own ? `${own}.rateLimit` : 'ingressRateLimit';
  const allowlist = own ? `${own}.ipAllowlist` : 'ingressIpAllowlist';
  const replicas = own && !props.replicasFromProfile ? `${own}.replicas` : 'ingressReplicas';
  check(Number.isInteger(average) && average > 0, WHO, `${rateLimit}.average`, average, 'a positive integer (requests per second)');
  check(Number.isInteger(burst) && burst > 0, WHO, `${rateLimit}.burst`, burst, 'a positive integer (requests)');
  check(Token.isUnresolved(average) || burst >= average, WHO, `${rateLimit}.burst`, burst, `at least ${rateLimit}.average (${average})`);
  check(props.ipAllowlist.length > 0, WHO, allowlist, props.ipAllowlist, 'at least one IPv4 CIDR block');
  for (const [i, cidr] of props.ipAllowlist.entries()) {
    check(isIpv4Cidr(cidr), WHO, allowlist, cidr, 'IPv4 CIDR blocks such as 203.0.113.0/24');
    check(isIpv4Network(cidr), WHO, allowlist, cidr, 'network addresses (host bits zero), e.g. 203.0.113.0/24 rather than 203.0.113.5/24');
    check(props.ipAllowlist.indexOf(cidr) === i, WHO, allowlist, cidr, 'each CIDR block once');
  }
  check(Number.isInteger(props.replicas) && props.replicas >= 1 && props.replicas <= 20, WHO,
    `${replicas}${props.replicasFromProfile ? `${profileSuffix(props.replicasFromProfile)}` : ''}`, props.replicas, 'an integer from 1 to 20');
}

/** The TLSOption, the shared middlewares and (Let's Encrypt) the default TLSStore. */
function sharedObjects(cluster: IFxCluster, props: TraefikAddonProps, behindAlb: boolean, letsEncrypt: boolean): KubeObject[] {
  const ns = WIRING.traefik.namespace;
  const names = WIRING.traefik.middlewares;
  const labels = platformLabels(cluster.platformName, 'traefik');
  const meta = (name: string) => ({ name, namespace: ns, labels });
  // Behind the ALB the client is the last address the ALB appended to X-Forwarded-For.
  const ipStrategy = behindAlb ? { ipStrategy: { depth: 1 } } : {};
  const objects: KubeObject[] = [
    KubeTLSOption.manifest({
      metadata: meta(WIRING.traefik.tlsOption),
      spec: {
        minVersion: 'VersionTLS12',
        cipherSuites: TLS12_CIPHER_SUITES,
        curvePreferences: ['X25519', 'CurveP256', 'CurveP384'],
        sniStrict: false,
      },
    }),
    KubeMiddleware.manifest({
      metadata: meta(names.secureHeaders),
      spec: {
        headers: {
          stsSeconds: 31536000,
          stsIncludeSubdomains: true,
          forceSTSHeader: true,
          contentTypeNosniff: true,
          frameDeny: true,
          referrerPolicy: 'strict-origin-when-cross-origin',
          permissionsPolicy: 'camera=(), microphone=(), geolocation=()',
          customResponseHeaders: { 'X-Powered-By': '', 'Server': '' },
        },
      },
    }),
    KubeMiddleware.manifest({
      metadata: meta(names.httpsRedirect),
      spec: { redirectScheme: { scheme: 'https', permanent: true } },
    }),
    KubeMiddleware.manifest({
      metadata: meta(names.rateLimit),
      spec: {
        rateLimit: {
          average: props.rateLimit.average,
          burst: props.rateLimit.burst,
          period: '1s',
          ...(behindAlb ? { sourceCriterion: ipStrategy } : {}),
        },
      },
    }),
    KubeMiddleware.manifest({
      metadata: meta(names.ipAllowList),
      spec: { ipAllowList: { sourceRange: props.ipAllowlist, ...ipStrategy } },
    }),
  ];
  if (letsEncrypt) {
    objects.push(KubeTLSStore.manifest({
      metadata: meta('default'),
      spec: { defaultCertificate: { secretName: WIRING.traefik.certificateSecret } },
    }));
  }
  return objects;
}

/** The Ingress the Load Balancer Controller turns into the public ALB in front of Traefik. */
function albIngress(cluster: IFxCluster, certificateArn: string): KubeIngressManifest {
  const tags = `fx:platform=${cluster.platformName}`;
  return KubeIngress.manifest({
    metadata: {
      name: RELEASE,
      namespace: WIRING.traefik.namespace,
      labels: platformLabels(cluster.platformName, 'traefik'),
      annotations: {
        'alb.ingress.kubernetes.io/scheme': 'internet-facing',
        'alb.ingress.kubernetes.io/target-type': 'ip',
        'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP":80},{"HTTPS":443}]',
        'alb.ingress.kubernetes.io/ssl-redirect': '443',
        'alb.ingress.kubernetes.io/certificate-arn': certificateArn,
        'alb.ingress.kubernetes.io/ssl-policy': ALB_SSL_POLICY,
        'alb.ingress.kubernetes.io/backend-protocol': 'HTTP',
        'alb.ingress.kubernetes.io/healthcheck-port': String(TRAEFIK_PORT),
        'alb.ingress.kubernetes.io/healthcheck-path': '/ping',
        'alb.ingress.kubernetes.io/load-balancer-attributes': 'routing.http.drop_invalid_header_fields.enabled=true',
        'alb.ingress.kubernetes.io/tags': tags,
        // A fixed name: the platform's ALB alarms find exactly this load balancer by it (FxObservability).
        'alb.ingress.kubernetes.io/load-balancer-name': platformAlbName(cluster),
      },
    },
    spec: {
      ingressClassName: 'alb',
      defaultBackend: { service: { name: RELEASE, port: { name: WIRING.traefik.webEntryPoint } } },
    },
  });
}

const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

/**
 * The VPC's CIDR block; the RFC 1918 ranges for an imported VPC whose CIDR was not given. Default
 * of `ingressIpAllowlist` and the addresses whose X-Forwarded-* headers Traefik trusts.
 */
export function defaultIpAllowlist(cluster: IFxCluster): string[] {
  try {
    return [cluster.vpc.vpcCidrBlock];
  } catch {
    return PRIVATE_RANGES;
  }
}
