import { cloudWatchPanel, CLOUDWATCH_UID, dashboard, Json } from './panels';

const NS = 'AWS/RDS';
const DIMS = { DBInstanceIdentifier: '$instance' };

/** RDS PostgreSQL from CloudWatch: CPU, memory, storage, connections, latency, IOPS, replication. */
export function rdsDashboard(): Json {
  return dashboard('fx-rds', 'Fx / RDS PostgreSQL', ['rds', 'postgresql', 'cloudwatch'], [
    cloudWatchPanel('CPU utilization', 'percent', NS, DIMS, [['CPUUtilization', 'Average'], ['CPUUtilization', 'Maximum']]),
    cloudWatchPanel('Database connections', 'short', NS, DIMS, [['DatabaseConnections', 'Maximum']]),
    cloudWatchPanel('Free storage', 'bytes', NS, DIMS, [['FreeStorageSpace', 'Minimum']]),
    cloudWatchPanel('Freeable memory', 'bytes', NS, DIMS, [['FreeableMemory', 'Minimum']]),
    cloudWatchPanel('Read and write latency', 's', NS, DIMS, [['ReadLatency', 'Average'], ['WriteLatency', 'Average']]),
    cloudWatchPanel('Read and write IOPS', 'iops', NS, DIMS, [['ReadIOPS', 'Average'], ['WriteIOPS', 'Average']]),
    cloudWatchPanel('Replica lag and transaction ID age', 'short', NS, DIMS, [['ReplicaLag', 'Maximum'], ['MaximumUsedTransactionIDs', 'Maximum']]),
    cloudWatchPanel('Network throughput', 'Bps', NS, DIMS, [['NetworkReceiveThroughput', 'Average'], ['NetworkTransmitThroughput', 'Average']]),
  ], [{
    name: 'instance',
    label: 'DB instance',
    type: 'query',
    datasource: { type: 'cloudwatch', uid: CLOUDWATCH_UID },
    query: { queryType: 'dimensionValues', region: 'default', namespace: NS, metricName: 'CPUUtilization', dimensionKey: 'DBInstanceIdentifier', refId: 'instance-query' },
    refresh: 1,
    includeAll: false,
    multi: false,
    current: {},
  }]);
}
