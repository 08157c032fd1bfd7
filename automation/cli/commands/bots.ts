/**
 * `dr bots check-permissions [--json]` (issue 11, seed 000 AC3): every token of every bot — not only the active one
 * — in every configured channel: a bot × token × channel matrix of `ok`, or the missing rights with the admin action
 * that grants them (bots cannot grant themselves rights, so nothing is corrected). The target is ../bots-target.ts
 * (`--local`, or the AWS stacks: their settings file for the channels, Secrets Manager for the tokens).
 *
 * `--json`: `{ ok, checked_at, where, bots: [{ bot, platform, tokens: [{ index, account?, state, channels: [{
 * channel, state: ok|missing|error, ok, missing: [...], status?, action?, detail?, where? }] }] }], errors, summary:
 * { cells, ok, missing, errors, missing_rights } }`. A token is named by its index, never its value.
 * Exit 0 when every cell is ok, 1 when a right is missing or something could not be checked, 2 on a usage error.
 */
import { checkBotPermissions, formatPermissionMatrix, permissionsOk, botChannelsOf, type PermissionReport } from '../../ops/bot-permissions';
import { matrixCounts } from '../../tokens';
import { AWS_STACK_FLAGS } from '../aws';
import { openBotsTarget } from '../bots-target';
import { Command, CommandContext, JSON_FLAG } from '../command';
import { DIR_FLAG, LOCAL_FLAG } from '../local';
import { TOKEN_API_FLAGS, TOKEN_TARGET_FLAGS } from './tokens-target';

/** The flags of the bots commands: --local/--dir, or the AWS target and the platform APIs. */
export const BOTS_TARGET_FLAGS = {
  local: LOCAL_FLAG,
  dir: { ...DIR_FLAG, description: `--local: ${DIR_FLAG.description}` },
  ...AWS_STACK_FLAGS,
  'outputs-dir': TOKEN_TARGET_FLAGS['outputs-dir'],
  region: TOKEN_TARGET_FLAGS.region,
  ...TOKEN_API_FLAGS,
};

/** The live matrix of the target (shared with `dr backup config` / `dr restore config` / `dr status`). */
export async function liveMatrix(ctx: CommandContext): Promise<PermissionReport & { where: string }> {
  const t = await openBotsTarget(ctx);
  const r = await checkBotPermissions({ bots: botChannelsOf(t.bots), store: t.store, telegram: t.telegram, discord: t.discord, clock: t.clock, signal: ctx.signal });
  return { ...r, where: t.where };
}

/** `--json` of {@link liveMatrix}. */
export function matrixJson(r: PermissionReport & { where: string }): Record<string, unknown> {
  const c = matrixCounts(r.matrix);
  return { ok: permissionsOk(r), checked_at: r.matrix.checked_at, where: r.where, bots: r.matrix.bots, errors: r.errors, summary: { cells: c.cells, ok: c.ok, missing: c.missing, errors: c.errors, missing_rights: c.missingRights } };
}

export const checkPermissionsCommand: Command = {
  name: 'bots check-permissions',
  summary: "every token of every bot in every configured channel: ok, or the missing rights and the admin action that grants them (nothing is corrected: bots cannot grant themselves rights). Exit 0 all ok, 1 a right missing or not checked. --local: the local environment; else AWS: the stacks' settings file and Secrets Manager",
  flags: { ...BOTS_TARGET_FLAGS, ...JSON_FLAG },
  async run(ctx) {
    const r = await liveMatrix(ctx);
    for (const e of r.errors) ctx.out.warn(`${e.bot}: ${e.error}`);
    ctx.out.result(matrixJson(r), formatPermissionMatrix(r));
    return permissionsOk(r) ? 0 : 1;
  },
};

export const command = checkPermissionsCommand;
