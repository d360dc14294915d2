import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { FxCapability } from '../../core/install-order';
import { chartLabels } from '../../core/tags';
import { FxAddonOptions } from '../addon';
import { mergeValues } from '../addon-values';
import type { IFxCluster } from '../contract';
import { addonReplicas } from './common';

/**
 * metrics-server in kube-system: the resource metrics API HPAs scale on. Replicas and the
 * PodDisruptionBudget follow the profile.
 *
 * @internal
 */
export function installMetricsServer(cluster: IFxCluster, options: FxAddonOptions = {}): eks.HelmChart {
  const replicas = addonReplicas(cluster);
  return cluster.addHelmChart('MetricsServer', {
    chart: cluster.versions.charts.metricsServer,
    version: options.version,
    namespace: 'kube-system',
    createNamespace: false,
    values: mergeValues({
      replicas,
      podDisruptionBudget: { enabled: replicas > 1, minAvailable: 1 },
      resources: {
        requests: { cpu: '100m', memory: '200Mi' },
        limits: { memory: '400Mi' },
      },
      commonLabels: chartLabels(cluster.platformName, 'metrics-server'),
    }, options.values),
    provides: [FxCapability.METRICS_API],
  });
}
