/**
 * The token engine's public API. Entry points (`dr tokens check|use|unpin`, the monitor Lambda, the bot runtime,
 * the rehearsal) import from here only.
 *
 * - {@link decide}: the rules, pure (keep / switch / alert and the new record).
 * - {@link pin} / {@link unpin}: the manual override, pure; {@link applyManualChange}: the same against a store.
 * - {@link runTokenCheck}: one monitor run (probe, decide, compare-and-set write, notify) and its JSON contract.
 * - {@link webhookDrift} / {@link interactionsDrift}: where updates go (issue 11), pure; {@link newWebhookSecret};
 *   {@link expectedEndpoint} (a bot's mode and URL → what should be registered); {@link ensureWebhookSecret} (the
 *   secret generated once, written with compare-and-set).
 * - {@link shouldConsume} / {@link setActiveRegion}: one consumer per token (issue 11): the record's active_region.
 * - Channel rights (issue 11): {@link telegramChatVerdict}, {@link discordChannelVerdict} (the documented Discord
 *   permission computation), the matrix and its {@link rightsMapOf} for `decide`; {@link diffPermissionMatrices}
 *   (a saved matrix against the live one, for `dr restore config`).
 * - Ports in `./ports`: implement them for an environment (bot probers, Secrets Manager / file stores, notifiers).
 */
export * from './ports';
export * from './record';
export * from './decide';
export * from './pin';
export * from './manual';
export * from './check';
export * from './webhook';
export * from './webhook-secret';
export * from './rights-diff';
export * from './active-region';
export * from './rights';
export * from './rights-telegram';
export * from './rights-discord';
