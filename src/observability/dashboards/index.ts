export { rdsDashboard } from './rds';
export { serviceDashboard, serviceDashboardUid } from './service';
export { traefikDashboard } from './traefik';
export { CLOUDWATCH_UID, PROMETHEUS_UID } from './panels';
