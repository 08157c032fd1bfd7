/**
 * A Discord bot's HTTP interactions endpoint (issue 11): `GET /applications/@me` → `interactions_endpoint_url`, and
 * `PATCH /applications/@me { interactions_endpoint_url }` when it drifted from the expected one. Discord saves a new
 * URL only after its own signed-PING check of the endpoint, so a PATCH to a survivor that does not answer PINGs
 * properly is refused (OperationError, status 400): the adapter reports it and changes nothing else.
 *
 * A bot that expects no endpoint (gateway only) but has one is reported (`unexpected`), never cleared here.
 */
import { Routes, type RESTGetCurrentApplicationResult, type RESTPatchCurrentApplicationJSONBody } from 'discord-api-types/v10';
import { redactValue } from '../../core/redact';
import { interactionsDrift, type InteractionsDrift } from '../../tokens';
import { discordCall, discordRest, type DiscordClientOptions } from './discord-rest';

/** A bot's endpoint as Discord reports it. */
export interface InteractionsEndpointState {
  application_id: string;
  interactions_endpoint_url: string | null;
}

/** What {@link DiscordInteractions.ensure} found and did. */
export interface EnsureEndpointResult {
  action: 'unchanged' | 'set' | 'reported';
  drift: InteractionsDrift;
  before: InteractionsEndpointState;
  after?: InteractionsEndpointState;
}

function state(a: RESTGetCurrentApplicationResult): InteractionsEndpointState {
  return redactValue({ application_id: a.id, interactions_endpoint_url: a.interactions_endpoint_url ?? null });
}

/** Reads and re-points Discord interactions endpoints. */
export class DiscordInteractions {
  constructor(private readonly o: DiscordClientOptions = {}) {}

  /** `GET /applications/@me`. */
  async endpoint(token: string, signal?: AbortSignal): Promise<InteractionsEndpointState> {
    const rest = discordRest(token, this.o);
    return state(await discordCall<RESTGetCurrentApplicationResult>('GET /applications/@me', token, () => rest.get(Routes.currentApplication(), { signal }), this.o.timeoutMs));
  }

  /** `PATCH /applications/@me` with only `interactions_endpoint_url` (null clears it). */
  async setEndpoint(token: string, url: string | null, signal?: AbortSignal): Promise<InteractionsEndpointState> {
    const rest = discordRest(token, this.o);
    const body: RESTPatchCurrentApplicationJSONBody = { interactions_endpoint_url: url ?? '' };
    return state(await discordCall<RESTGetCurrentApplicationResult>('PATCH /applications/@me', token, () => rest.patch(Routes.currentApplication(), { body, signal }), this.o.timeoutMs));
  }

  /** Compare with `expected` (null: no endpoint expected) and PATCH when it is unset or points elsewhere. */
  async ensure(token: string, expected: string | null, signal?: AbortSignal): Promise<EnsureEndpointResult> {
    const before = await this.endpoint(token, signal);
    const drift = interactionsDrift(expected, before.interactions_endpoint_url);
    if (!drift.drifted) return { action: 'unchanged', drift, before };
    if (drift.reason === 'unexpected' || expected === null) return { action: 'reported', drift, before };
    const after = await this.setEndpoint(token, expected, signal);
    return { action: 'set', drift, before, after };
  }
}
