import { Token } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { check, checkKnownAtSynth, isEmail } from '../core/errors';
import { isHostname } from '../core/k8s-names';

const WHO = 'FxTls';
// Practical address check (local@domain.tld); ACME servers reject anything stranger anyway.

/** Options of the ACM TLS path. */
export interface FxAcmTlsOptions {
  /** Public hosted zone the certificate is DNS-validated in and the alias records are written to. */
  readonly hostedZone: route53.IHostedZone;
  /**
   * Platform domain, e.g. `fx.example.com`: the certificate covers it and `*.<domainName>`, and
   * both names point at the load balancer. Must be the zone's name or below it.
   */
  readonly domainName: string;
}

/** Options of the Let's Encrypt TLS path. */
export interface FxLetsEncryptTlsOptions extends FxAcmTlsOptions {
  /** Address Let's Encrypt sends expiry notices to. */
  readonly email: string;
  /**
   * Use the Let's Encrypt staging directory (untrusted certificates, generous rate limits).
   * @default false
   */
  readonly staging?: boolean;
}

/** Who terminates TLS for the platform's public traffic. */
export enum FxTlsMode {
  /** An ALB with an ACM certificate terminates TLS and forwards HTTP to Traefik. */
  ACM = 'acm',
  /** Traefik terminates TLS behind an NLB with a certificate cert-manager obtains from Let's Encrypt. */
  LETS_ENCRYPT = 'letsencrypt',
}

/**
 * How the platform's public HTTPS endpoint gets its certificate.
 *
 * `FxTls.acm()` (the default when a domain is given) puts an internet-facing ALB with an ACM
 * certificate in front of Traefik; `FxTls.letsEncrypt()` puts an NLB in front of Traefik and has
 * cert-manager obtain a wildcard certificate from Let's Encrypt (DNS-01 through Route 53).
 */
export class FxTls {
  /**
   * ACM certificate (DNS-validated in the hosted zone) on an ALB created by the AWS Load Balancer
   * Controller; TLS 1.2+ policy, HTTP redirected to HTTPS, Route 53 alias records.
   */
  public static acm(options: FxAcmTlsOptions): FxTls {
    validateDomain(options, 'acm');
    return new FxTls(FxTlsMode.ACM, options.hostedZone, options.domainName.toLowerCase());
  }

  /**
   * Let's Encrypt wildcard certificate issued in-cluster by cert-manager (DNS-01 in the hosted
   * zone, Pod Identity), served by Traefik behind an NLB.
   */
  public static letsEncrypt(options: FxLetsEncryptTlsOptions): FxTls {
    validateDomain(options, 'letsEncrypt');
    check(typeof options.email === 'string' && isEmail(options.email), WHO, 'letsEncrypt.email', options.email,
      'an e-mail address such as ops@example.com (Let\'s Encrypt sends expiry notices there)');
    return new FxTls(FxTlsMode.LETS_ENCRYPT, options.hostedZone, options.domainName.toLowerCase(), options.email, options.staging ?? false);
  }

  private constructor(
    /** Who terminates TLS. */
    public readonly mode: FxTlsMode,
    /** The hosted zone of the platform domain. */
    public readonly hostedZone: route53.IHostedZone,
    /** The platform domain. */
    public readonly domainName: string,
    /** ACME account e-mail (Let's Encrypt path only). */
    public readonly email?: string,
    /** Whether the Let's Encrypt staging directory is used. */
    public readonly staging: boolean = false,
  ) {}
}

function validateDomain(options: FxAcmTlsOptions, method: string): void {
  check(options !== undefined && options.hostedZone !== undefined && options.hostedZone !== null, WHO, `${method}.hostedZone`, undefined,
    'a public route53.IHostedZone for DNS validation and the alias records (e.g. route53.HostedZone.fromHostedZoneAttributes)');
  const domain = options.domainName;
  checkKnownAtSynth(domain, WHO, `${method}.domainName`,
    'the hosts of the platform (dashboards, services) are derived from it and routes are checked against it');
  // The certificate's common name: ACM and Let's Encrypt take at most 64 characters.
  check(typeof domain !== 'string' || domain.length <= 64, WHO, `${method}.domainName`, domain,
    'a domain name of at most 64 characters (the certificate\'s common name)');
  check(typeof domain === 'string' && isHostname(domain.toLowerCase()) && !domain.startsWith('*.'), WHO, `${method}.domainName`, domain,
    'a fully qualified domain name such as fx.example.com (no wildcard: *.<domainName> is always covered)');
  // Route hosts, Ingress hosts and certificate names are compared and written in lowercase: a mixed-case
  // domain would match no route host.
  check(Token.isUnresolved(domain) || domain === domain.toLowerCase(), WHO, `${method}.domainName`, domain,
    `a lowercase domain name ('${domain.toLowerCase()}'): route hosts and Kubernetes host names are lowercase`);
  const zoneName = zoneNameOf(options.hostedZone);
  check(zoneName === undefined || Token.isUnresolved(zoneName) || Token.isUnresolved(domain)
    || domain.toLowerCase() === trimDot(zoneName) || domain.toLowerCase().endsWith(`.${trimDot(zoneName)}`),
  WHO, `${method}.domainName`, domain, `the hosted zone's name ${zoneName} or a name below it`);
}

function trimDot(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** The zone's name, or undefined for zones imported by id only (their name is unknown). */
function zoneNameOf(zone: route53.IHostedZone): string | undefined {
  try {
    return zone.zoneName;
  } catch {
    return undefined;
  }
}
