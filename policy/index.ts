/**
 * The bot-platform-dr policy pack (CrossGuard): `pulumi preview --policy-pack policy`. It only wires the policies of
 * ./policies.ts (the rules are plain functions in ./rules); docs/policy.md describes them.
 */
import { PolicyPack } from '@pulumi/policy';
import { DR_POLICIES } from './policies';

new PolicyPack('bot-platform-dr-guardrails', {
  description: 'DR guardrails of bot-platform-dr: what makes a stack recoverable (mandatory) and what is advised.',
  policies: DR_POLICIES,
});
