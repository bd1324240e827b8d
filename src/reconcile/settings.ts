// The datapath's global settings (the BPF config map) as the configuration defines them.
import type { Config } from '../config.js';
import type { DatapathSettings } from '../datapath/codec.js';

export function datapathSettings(config: Config): DatapathSettings {
  return {
    unknownEndpoint: config.unknownEndpoint,
    allowEventSample: config.events.allowSample,
    eventsPerSecond: config.events.perSecond,
    tcpTimeoutSeconds: config.conntrack.tcpTimeoutSeconds,
    tcpClosingTimeoutSeconds: config.conntrack.tcpClosingTimeoutSeconds,
    otherTimeoutSeconds: config.conntrack.otherTimeoutSeconds,
  };
}
