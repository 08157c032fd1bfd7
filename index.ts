/**
 * bot-platform-dr: one region of the DR pair per stack (`pulumi up -s primary`, `-s secondary`, or a
 * scratch drill stack). Config is validated before any resource is declared; see lib/config.ts.
 * Every stack output is a name, endpoint or ARN — never a secret value.
 */
import { buildStack } from './components/regional-dr';

export = buildStack();
